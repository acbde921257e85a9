"""What the benchmarks that drive the real app share: a new user's request headers.

Imported after the script has put ``src`` on the path."""

from __future__ import annotations

from typing import Any

from botarena.accounts.service import AccountService
from botarena.agents.models import Submission
from botarena.db.engine import SessionFactory, session_scope


def new_user_headers(factory: SessionFactory, username: str) -> dict[str, str]:
    """A new user, straight in the database; the headers that act as them."""
    with session_scope(factory) as session:
        _user, issued = AccountService(session).create_user(username, None)
    return {"Authorization": f"Bearer {issued.secret}"}


def built_agents(
    client: Any, factory: SessionFactory, headers: dict[str, str], artifact: str
) -> list[str]:
    """Two connectx agents of the headers' user, each with a submission marked built from
    ``artifact`` (the JSON of a build's artifact), made through the API; their ids."""
    agents = []
    for name in ("left", "right"):
        agent = client.post(
            "/api/v1/agents", json={"name": name, "game": "connectx"}, headers=headers
        ).json()["id"]
        sub = client.post(
            "/api/v1/submissions",
            json={"agentId": agent, "codeUrl": "https://git.example.com/bench/bot"},
            headers=headers,
        ).json()["submission"]["id"]
        with session_scope(factory) as session:
            row = session.get(Submission, sub)
            assert row is not None
            row.status, row.artifact = "success", artifact
            session.commit()
        agents.append(agent)
    return agents
