"""Teams through the real API in tests, and a competition's settings changed in place."""

from __future__ import annotations

from typing import Any

from fastapi.testclient import TestClient

from botarena.competitions.models import Competition
from botarena.competitions.repository import CompetitionRepository
from botarena.db.engine import SessionFactory

from support.accounts import Account


def default_competition(factory: SessionFactory, game: str = "connectx", **changes: Any) -> str:
    """The game's default competition's id (made on first use), with ``changes`` to its
    settings (max_team_size, team_merges, deadline_at) written."""
    with factory() as session:
        competition = CompetitionRepository(session).default_for(game)
        for name, value in changes.items():
            assert hasattr(Competition, name), name
            setattr(competition, name, value)
        session.commit()
        return competition.id


def create_team(client: TestClient, account: Account, competition_id: str, name: str) -> dict:
    """A new team and its invite code: ``{"team": …, "inviteCode": …, "invitePath": …}``."""
    answer = client.post(
        f"/api/v1/competitions/{competition_id}/teams",
        json={"name": name},
        headers=account.headers,
    )
    assert answer.status_code == 201, answer.text
    made: dict = answer.json()
    return made


def join(client: TestClient, account: Account, code: str) -> Any:
    """The answer to ``account`` joining with ``code`` (not checked)."""
    return client.post("/api/v1/teams/join", json={"code": code}, headers=account.headers)


def team(client: TestClient, team_id: str) -> dict:
    answer = client.get(f"/api/v1/teams/{team_id}")
    assert answer.status_code == 200, answer.text
    found: dict = answer.json()
    return found
