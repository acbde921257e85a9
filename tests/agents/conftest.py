"""Fixtures for the agents tests: an agent of alice's, and a way to force a status."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from fastapi.testclient import TestClient

from botarena.agents.models import Submission
from botarena.agents.status import SubmissionStatus
from botarena.db.engine import SessionFactory

from support.accounts import Account


@pytest.fixture
def agent_id(client: TestClient, alice: Account) -> str:
    answer = client.post(
        "/api/v1/agents", json={"name": "alices-bot", "game": "connectx"}, headers=alice.headers
    )
    assert answer.status_code == 201
    value: str = answer.json()["id"]
    return value


SubmitUrl = Callable[..., dict[str, object]]


@pytest.fixture
def submit_url(client: TestClient, alice: Account, agent_id: str) -> SubmitUrl:
    def submit(code_url: str = "https://git.example.com/alice/bot.git", **extra: object) -> dict:
        answer = client.post(
            "/api/v1/submissions",
            json={"agentId": agent_id, "codeUrl": code_url, **extra},
            headers=alice.headers,
        )
        assert answer.status_code == 201, answer.text
        body: dict[str, object] = answer.json()["submission"]
        return body

    return submit


ForceStatus = Callable[[str, list[SubmissionStatus]], None]


@pytest.fixture
def force_status(session_factory: SessionFactory) -> ForceStatus:
    """Walk a submission through statuses as a builder would (through the machine)."""

    def walk(submission_id: str, path: list[SubmissionStatus]) -> None:
        with session_factory() as session:
            submission = session.get(Submission, submission_id)
            assert submission is not None
            for status in path:
                submission.move_to(status)
                session.flush()
            session.commit()

    return walk
