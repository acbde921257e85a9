"""Competitions in tests: a clock the phases and the submission counts read, moved at will,
and short ways to make a competition and take part through the real API."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient

from botarena.agents.models import Submission
from botarena.db.engine import SessionFactory

from support.accounts import Account
from support.api import submit_url
from support.competitors import UNPLAYED

START = datetime(2030, 1, 10, 12, 0, tzinfo=UTC)


@dataclass
class Clock:
    """The time the competition phases (and new submissions' times) read."""

    now: datetime

    def __call__(self) -> datetime:
        return self.now

    def set(self, moment: datetime) -> None:
        self.now = moment


def install_clock(monkeypatch: pytest.MonkeyPatch) -> Clock:
    """The clock the phases read (``botarena.clock.utcnow``), and the one that dates new
    submissions, so that a team's daily count follows the same day."""
    fake = Clock(START - timedelta(days=1))
    monkeypatch.setattr("botarena.clock.utcnow", fake)
    monkeypatch.setattr("botarena.agents.service.utcnow", fake)
    return fake


def dates(opens: datetime = START) -> dict[str, str]:
    """Opening at ``opens``, the deadline ten days later, the final's end five days after."""
    return {
        "opensAt": opens.isoformat(),
        "deadlineAt": (opens + timedelta(days=10)).isoformat(),
        "finalEndsAt": (opens + timedelta(days=15)).isoformat(),
    }


def create_competition(client: TestClient, admin: Account, **fields: Any) -> dict[str, Any]:
    body: dict[str, Any] = {"game": "connectx", "title": "Spring cup", **dates(), **fields}
    answer = client.post("/api/v1/competitions", json=body, headers=admin.headers)
    assert answer.status_code == 201, answer.text
    made: dict[str, Any] = answer.json()
    return made


def competition_agent(client: TestClient, account: Account, competition_id: str, name: str) -> str:
    answer = client.post(
        "/api/v1/agents",
        json={"name": name, "competitionId": competition_id},
        headers=account.headers,
    )
    assert answer.status_code == 201, answer.text
    agent_id: str = answer.json()["id"]
    return agent_id


def built_in(
    client: TestClient,
    factory: SessionFactory,
    account: Account,
    competition_id: str,
    name: str,
    status: str = "active",
) -> tuple[str, str]:
    """An agent of the competition whose submission is put in ``status`` with an artifact
    (as if built); (agent, submission)."""
    agent = competition_agent(client, account, competition_id, name)
    sub = submit_url(client, account, agent)
    with factory() as session:
        row = session.get(Submission, sub)
        assert row is not None
        row.status, row.artifact = status, UNPLAYED
        session.commit()
    return agent, sub
