"""Races: versions stay distinct and an agent never ends with two active submissions."""

from __future__ import annotations

from collections.abc import Callable

from fastapi.testclient import TestClient

from botarena.accounts.models import User
from botarena.agents.service import SubmissionService
from botarena.agents.status import SubmissionStatus
from botarena.db.engine import SessionFactory
from botarena.errors import AppError
from botarena.settings import Settings

from support.accounts import Account
from support.races import race

S = SubmissionStatus


def test_concurrent_submissions_get_distinct_versions(
    client: TestClient,
    alice: Account,
    agent_id: str,
    settings: Settings,
    session_factory: SessionFactory,
) -> None:
    def submit() -> int:
        with session_factory() as session:
            user = session.get(User, alice.id)
            assert user is not None
            service = SubmissionService(session, settings)
            return service.create_from_url(
                user, agent_id, "https://git.example.com/a/b.git", None
            ).version

    versions = race([submit] * 6)
    assert sorted(versions) == [1, 2, 3, 4, 5, 6]  # type: ignore[type-var]


def test_concurrent_activations_leave_one_active(
    client: TestClient,
    alice: Account,
    agent_id: str,
    settings: Settings,
    session_factory: SessionFactory,
    submit_url,
    force_status,
) -> None:
    subs = [submit_url()["id"] for _ in range(4)]
    for sub in subs:
        force_status(sub, [S.BUILDING, S.SUCCESS])

    def activate(sub_id: str) -> Callable[[], str]:
        def run() -> str:
            with session_factory() as session:
                user = session.get(User, alice.id)
                assert user is not None
                return SubmissionService(session, settings).activate(user, sub_id).status

        return run

    results = race([activate(sub) for sub in subs])
    for result in results:
        assert result == "active" or (isinstance(result, AppError) and result.status_code == 409)
    statuses = [s["status"] for s in client.get(f"/api/v1/agents/{agent_id}").json()["submissions"]]
    assert statuses.count("active") == 1
    assert set(statuses) <= {"active", "inactive", "success"}
