"""Names holding HTML show as text on every page that shows them."""

from __future__ import annotations

from fastapi.testclient import TestClient

from botarena.accounts.models import User
from botarena.agents.models import Agent
from botarena.db.engine import SessionFactory
from botarena.settings import Settings

from support.accounts import Account
from support.competitors import pretend_built
from support.pages import page_of, play_ranked, sign_in

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
