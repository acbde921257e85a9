"""The competitions' pages through the real app: an admin creates one with the form (an
invite-only one's code shown once), the list shows its phase and next date, a participant
joins, sees what they may still submit today and chooses for the final, and the admin starts
the final evaluation and freezes it; Markdown and names are shown safely."""

from __future__ import annotations

from datetime import timedelta

import pytest
from fastapi.testclient import TestClient

from botarena.db.engine import SessionFactory

from support.accounts import MakeUser
from support.competing import START, Clock, built_in, install_clock
from support.pages import page_of, sign_in

BOTH_DATABASES = True


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> Clock:
    return install_clock(monkeypatch)


def _form(opens: str = "2030-01-10T12:00", **changes: str) -> dict[str, str]:
    return {
        "title": "Winter <b>League</b>",
        "game": "connectx",
        "configuration": '{"rows": 5}',
        "description": "# Rules\n\nBe *fair*. <img src=x onerror=alert(1)>",
        "opens_at": opens,
        "deadline_at": "2030-01-20T12:00",
        "final_ends_at": "2030-01-25T12:00",
        "visibility": "public",
        "daily_submission_limit": "3",
        "final_submissions_per_team": "1",
        "max_team_size": "",
        **changes,
    }


def test_an_organiser_runs_a_competition_from_the_pages(
    client: TestClient, make_user: MakeUser, session_factory: SessionFactory, clock: Clock
) -> None:
    make_user("orga", admin=True, password="orga-password-1")
    assert sign_in(client, "orga", "orga-password-1").status_code == 303
    form = page_of(client.get("/competitions/new"))
    token = form.csrf()

    refused = client.post(
        "/competitions/new", data={**_form(deadline_at="2029-01-01T00:00"), "csrf_token": token}
    )
    assert refused.status_code == 422
    assert "opensAt < deadlineAt" in page_of(refused).by_id("form-error").text

    made = client.post(
        "/competitions/new", data={**_form(), "csrf_token": token}, follow_redirects=False
    )
    assert made.status_code == 303, made.text
    slug = made.headers["location"].rsplit("/", 1)[1]
    assert slug == "winter-b-league-b"
    overview = client.get(f"/competitions/{slug}")
    page = page_of(overview)
    assert "<b>League</b>" not in overview.text and "Winter <b>League</b>" in page.text
    assert "<h1>Rules</h1>" in overview.text and "<em>fair</em>" in overview.text
    assert "<img src=x" not in overview.text and "&lt;img src=x" in overview.text
    assert page.by_id("phase").text == "upcoming"
    listing = page_of(client.get("/competitions"))
    row = next(r for r in listing.all("tr") if "Winter" in r.text)
    assert "upcoming" in row.text and "opens" in row.text and "in 1 day" in row.text

    invite = client.post(
        "/competitions/new",
        data={**_form(title="Closed club", visibility="invite"), "csrf_token": token},
    )
    assert invite.status_code == 200
    code = page_of(invite).by_id("join-code").text
    assert "join_" in code
    assert "join_" not in client.get("/competitions/closed-club").text  # shown once

    # A participant joins and sees the day's remaining submissions.
    player = make_user("player", password="player-password-1")
    client.cookies.clear()
    assert sign_in(client, "player", "player-password-1").status_code == 303
    clock.set(START + timedelta(hours=1))
    token = page_of(client.get(f"/competitions/{slug}")).csrf()
    joined = client.post(
        f"/competitions/{slug}/join", data={"csrf_token": token}, follow_redirects=False
    )
    assert joined.status_code == 303
    cid = client.get(f"/api/v1/competitions/{slug}").json()["id"]
    _agent, sub = built_in(client, session_factory, player, cid, "pl-bot", status="inactive")
    page = page_of(client.get(f"/competitions/{slug}"))
    assert "2 more times today" in page.by_id("remaining").text
    chosen = client.post(
        f"/competitions/{slug}/selection",
        data={"csrf_token": token, "submission": sub},
        follow_redirects=False,
    )
    assert chosen.status_code == 303
    selection = client.get(f"/api/v1/competitions/{slug}/selection", headers=player.headers)
    assert selection.json()["submissionIds"] == [sub]

    # The organiser, after the deadline: one entrant only, so the final is refused; freeze.
    client.cookies.clear()
    assert sign_in(client, "orga", "orga-password-1").status_code == 303
    clock.set(START + timedelta(days=10, hours=1))
    token = page_of(client.get(f"/competitions/{slug}")).csrf()
    too_few = client.post(
        f"/competitions/{slug}/final-evaluation", data={"csrf_token": token, "rounds": "1"}
    )
    assert too_few.status_code == 409
    assert "2 selected submissions" in page_of(too_few).by_id("competition-error").text
    frozen = client.post(
        f"/competitions/{slug}/freeze", data={"csrf_token": token}, follow_redirects=False
    )
    assert frozen.status_code == 303
    page = page_of(client.get(f"/competitions/{slug}"))
    assert page.by_id("phase").text == "frozen"
    assert "Final standings" in page.by_id("board-heading").text
    assert "pl-bot" in page.by_id("leaderboard").text


def test_the_edit_form_changes_only_what_changed(
    client: TestClient, make_user: MakeUser, clock: Clock
) -> None:
    make_user("orga", admin=True, password="orga-password-1")
    assert sign_in(client, "orga", "orga-password-1").status_code == 303
    token = page_of(client.get("/competitions/new")).csrf()
    client.post("/competitions/new", data={**_form(title="Edited"), "csrf_token": token})
    clock.set(START + timedelta(days=1))  # open: the configuration stays
    form = page_of(client.get("/competitions/edited/edit"))
    values = {
        e.attrs["name"]: e.attrs.get("value", "") for e in form.all("input") if "name" in e.attrs
    }
    assert values["opens_at"] == "2030-01-10T12:00"
    data = {
        **{k: v for k, v in _form(title="Edited again").items() if k != "game"},
        "csrf_token": token,
    }
    saved = client.post("/competitions/edited/edit", data=data, follow_redirects=False)
    assert saved.status_code == 303, saved.text
    assert client.get("/api/v1/competitions/edited").json()["title"] == "Edited again"
    data["configuration"] = '{"rows": 6}'
    refused = client.post("/competitions/edited/edit", data=data)
    assert refused.status_code == 400
    assert "configuration" in page_of(refused).by_id("form-error").text


def test_only_admins_see_the_organiser_pages(
    client: TestClient, make_user: MakeUser, clock: Clock
) -> None:
    make_user("someone", password="someone-password-1")
    assert sign_in(client, "someone", "someone-password-1").status_code == 303
    assert client.get("/competitions/new").status_code == 403
    assert "New competition" not in client.get("/competitions").text
