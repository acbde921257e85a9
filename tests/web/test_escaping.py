"""Names holding HTML show as text on every page that shows them, and every form refuses a
POST without the session's CSRF token; the pages and forms are found in the app's routes, so
a new one is covered (or the walk asks for a value for its parameter)."""

from __future__ import annotations

from fastapi.testclient import TestClient

from botarena.accounts.models import User
from botarena.agents.models import Agent
from botarena.db.engine import SessionFactory
from botarena.settings import Settings

from support.accounts import Account
from support.competitors import pretend_built
from support.pages import page_of, play_ranked, sign_in
from support.web_routes import PageRoute, page_routes

AGENT_NAME = "<script>alert('agent')</script>"
OWNER_NAME = '<img src=x onerror="alert(1)">'


def test_agent_and_user_names_are_escaped(
    client: TestClient,
    session_factory: SessionFactory,
    settings: Settings,
    alice: Account,
    bob: Account,
    admin: Account,
) -> None:
    hostile, _ = pretend_built(client, session_factory, alice, "hostile")
    other, _ = pretend_built(client, session_factory, bob, "other")
    play_ranked(client, session_factory, settings, admin, (hostile, other), 0)
    # The services refuse such names; rows written another way (an older rule, a direct
    # edit) must still show as text.
    with session_factory() as session:
        agent = session.get(Agent, hostile)
        user = session.get(User, alice.id)
        assert agent is not None and user is not None
        agent.name = AGENT_NAME
        user.username, user.username_key = OWNER_NAME, OWNER_NAME.lower()
        session.commit()
    assert sign_in(client, OWNER_NAME, "alice-password").status_code == 303
    for path in ("/", "/games/connectx", "/games/connectx?sort=owner"):
        answer = client.get(path)
        assert answer.status_code == 200
        assert AGENT_NAME not in answer.text and OWNER_NAME not in answer.text
        page = page_of(answer)
        assert AGENT_NAME in page.text
        assert [s.attrs["src"] for s in page.all("script") if not s.attrs.get("src")] == []
        assert all(not s.text for s in page.all("script"))
        assert page.all("img") == []
    board = page_of(client.get("/games/connectx"))
    assert OWNER_NAME in board.text  # the owner column
    assert OWNER_NAME in page_of(client.get("/")).all("a", class_="viewer")[0].text


SCRIPT_NAME = "<script>alert(1)</script>"
IMG_NAME = "<img src=x onerror=alert(1)>"
# Event streams never end: their blocks are the pages' own blocks, checked on the pages.
STREAMS = "/live/"
# Pages that answer other than 200 for a reason of their own, with the walk's values.
NOT_200 = {"/login/once": 401, "/signup": 404}  # no link given; sign-up closed by default


def _seeded(
    client: TestClient, session_factory: SessionFactory, settings: Settings, accounts: list[Account]
) -> dict[str, str]:
    """Rows with hostile names for every kind of page parameter; the values by parameter."""
    alice, bob, admin = accounts
    hostile, sub = pretend_built(client, session_factory, alice, "hostile")
    other, _ = pretend_built(client, session_factory, bob, "other")
    match = play_ranked(client, session_factory, settings, admin, (hostile, other), 0)
    token = client.post("/api/v1/me/tokens", json={"name": IMG_NAME}, headers=alice.headers)
    assert token.status_code == 201, token.text
    hook = {"url": "https://93.184.215.14/hook", "events": [], "description": SCRIPT_NAME}
    webhook = client.post("/api/v1/notifications/webhooks", json=hook, headers=alice.headers)
    assert webhook.status_code == 201, webhook.text
    body = {"game": "connectx", "format": "round_robin"}
    tournament = client.post("/api/v1/tournaments", json=body, headers=admin.headers)
    assert tournament.status_code == 201, tournament.text
    team = client.get(f"/api/v1/agents/{hostile}").json()["teamId"]
    contest = {
        "game": "connectx",
        "title": SCRIPT_NAME,
        "description": IMG_NAME,
        "opensAt": "2030-01-01T00:00:00Z",
        "deadlineAt": "2030-02-01T00:00:00Z",
        "finalEndsAt": "2030-03-01T00:00:00Z",
    }
    competition = client.post("/api/v1/competitions", json=contest, headers=admin.headers)
    assert competition.status_code == 201, competition.text
    with session_factory() as session:
        agent = session.get(Agent, hostile)
        user = session.get(User, alice.id)
        assert agent is not None and user is not None
        agent.name = SCRIPT_NAME
        # An admin too: the walk sees what owners and admins see (logs, private parts).
        user.username, user.username_key, user.role = IMG_NAME, IMG_NAME.lower(), "admin"
        session.commit()
    return {
        "game": "connectx",
        "agent_id": hostile,
        "submission_id": sub,
        "match_id": match,
        "token_id": token.json()["id"],
        "webhook_id": webhook.json()["id"],
        "tournament_id": tournament.json()["id"],
        "ref": competition.json()["slug"],
        "username": "bob",
        "action": "activate",
        "team_id": team,
        "from_id": team,
    }


def test_every_page_shows_hostile_names_as_text(
    client: TestClient,
    session_factory: SessionFactory,
    settings: Settings,
    alice: Account,
    bob: Account,
    admin: Account,
) -> None:
    values = _seeded(client, session_factory, settings, [alice, bob, admin])
    assert sign_in(client, IMG_NAME, "alice-password").status_code == 303
    routes = [r for r in page_routes(client.app) if r.method == "GET"]  # type: ignore[arg-type]
    walked = [r.path for r in routes if not r.path.startswith(STREAMS)]
    assert {"/", "/me", "/agents/{agent_id}", "/matches/{match_id}"} <= set(walked)
    shown: dict[str, bool] = {}
    for path in walked:
        answer = client.get(PageRoute("GET", path).url(values), follow_redirects=False)
        assert answer.status_code == NOT_200.get(path, 200), (path, answer.status_code)
        for name in (SCRIPT_NAME, IMG_NAME):
            assert name not in answer.text, path
        page = page_of(answer)
        assert page.all("img") == [], path
        assert all(s.attrs.get("src") and not s.text for s in page.all("script")), path
        assert not any(k.startswith("on") for e in page.elements for k in e.attrs), path
        shown[path] = SCRIPT_NAME in page.text or IMG_NAME in page.text
    # The names are there, as text: the walk looked where they are shown.
    shown_on = (
        "/",
        "/me",
        "/agents/{agent_id}",
        "/matches/{match_id}",
        "/games/{game}",
        "/teams/{team_id}",
    )
    for path in (*shown_on, "/tournaments/{tournament_id}", "/competitions/{ref}"):
        assert shown[path], path
    assert IMG_NAME in page_of(client.get("/me")).text  # the token's name and the user's


def test_every_form_refuses_a_post_without_the_sessions_token(
    client: TestClient,
    session_factory: SessionFactory,
    settings: Settings,
    alice: Account,
    bob: Account,
    admin: Account,
) -> None:
    """Every POST of the pages, /login and /signup included (they carry the session's token
    like every form: a forged sign-in would put the victim in the attacker's account)."""
    values = _seeded(client, session_factory, settings, [alice, bob, admin])
    assert sign_in(client, IMG_NAME, "alice-password").status_code == 303
    token = page_of(client.get("/")).csrf()
    posts = [r for r in page_routes(client.app) if r.method == "POST"]  # type: ignore[arg-type]
    assert {"/login", "/logout", "/signup", "/me/tokens"} <= {r.path for r in posts}
    before = client.get("/api/v1/auth/tokens", headers=alice.headers).json()
    for route in posts:
        url = route.url(values)
        form = {"name": "x", "username": "x", "password": "x" * 9, "confirm": "x" * 9}
        for refused in (
            client.post(url, data=form, follow_redirects=False),
            client.post(url, data={**form, "csrf_token": token + "x"}, follow_redirects=False),
            client.post(url, headers={"X-CSRF-Token": "forged"}, follow_redirects=False),
        ):
            assert refused.status_code == 403, (route.path, refused.status_code)
            assert "did not come from this site" in page_of(refused).text
    # Nothing changed: still signed in, the same tokens.
    assert IMG_NAME in page_of(client.get("/")).all("a", class_="viewer")[0].text
    after = client.get("/api/v1/auth/tokens", headers=alice.headers).json()
    assert after == before
