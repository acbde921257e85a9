"""Agents whose submission is made ready straight in the database, as if it had been built."""

from __future__ import annotations

from fastapi.testclient import TestClient

from botarena.agents.models import Submission
from botarena.db.engine import SessionFactory

from support.accounts import Account
from support.api import create_agent, submit_url

# An artifact that nothing runs: the tests that use it record results themselves.
UNPLAYED = '{"backend": "local", "codeDir": "/nowhere", "envDir": null, "command": null}'


def pretend_built(
    client: TestClient,
    factory: SessionFactory,
    account: Account,
    name: str,
    game: str = "connectx",
    status: str = "active",
) -> tuple[str, str]:
    """A new agent and its submission, put in ``status`` with an artifact; (agent, submission)."""
    agent = create_agent(client, account, name, game)
    sub = submit_url(client, account, agent)
    with factory() as session:
        row = session.get(Submission, sub)
        assert row is not None
        row.status, row.artifact = status, UNPLAYED
        session.commit()
    return agent, sub
