"""Status changes on a stored submission go through the machine and are recorded with time."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from botarena.agents.models import Submission, SubmissionStatusEvent
from botarena.agents.status import IllegalTransitionError, SubmissionStatus
from botarena.db.engine import SessionFactory

from support.accounts import Account

S = SubmissionStatus


def _new_submission(client: TestClient, headers: dict[str, str]) -> str:
    agent = client.post("/api/v1/agents", json={"name": "walker", "game": "rps"}, headers=headers)
    assert agent.status_code == 201, agent.text
    created = client.post(
        "/api/v1/submissions",
        json={"agentId": agent.json()["id"], "codeUrl": "https://example.com/a/b.git"},
        headers=headers,
    )
    assert created.status_code == 201, created.text
    sub_id: str = created.json()["submission"]["id"]
    return sub_id


def test_full_life_is_recorded(
    client: TestClient, alice: Account, session_factory: SessionFactory
) -> None:
    sub_id = _new_submission(client, alice.headers)
    path = [S.BUILDING, S.PENDING, S.BUILDING, S.SUCCESS, S.ACTIVE, S.INACTIVE, S.ACTIVE, S.FAILED]
    with session_factory() as session:
        for status in path:
            sub = session.get(Submission, sub_id)
            assert sub is not None
            sub.move_to(status, reason=f"to {status.value}")
            session.commit()
    history = client.get(f"/api/v1/submissions/{sub_id}/build-status").json()["statusHistory"]
    assert [h["status"] for h in history] == ["pending", *[s.value for s in path]]
    times = [h["at"] for h in history]
    assert times == sorted(times)


def test_illegal_change_writes_nothing(
    client: TestClient, alice: Account, session_factory: SessionFactory
) -> None:
    sub_id = _new_submission(client, alice.headers)
    with session_factory() as session:
        sub = session.get(Submission, sub_id)
        assert sub is not None
        with pytest.raises(IllegalTransitionError):
            sub.move_to(S.ACTIVE)
        session.commit()
    with session_factory() as session:
        sub = session.get(Submission, sub_id)
        assert sub is not None and sub.status == "pending"
        events = session.scalars(
            select(SubmissionStatusEvent).where(SubmissionStatusEvent.submission_id == sub_id)
        ).all()
        assert [e.status for e in events] == ["pending"]
