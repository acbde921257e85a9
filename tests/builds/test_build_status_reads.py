"""The build status as the API reads it now (Core statements, one worker-thread hop): every
field says what the submission's rows say, the queue position is the builders' order, a
change shows in the very next request, and the caller's token is checked as before."""

from __future__ import annotations

import json
from datetime import datetime, timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import text

from botarena.agents.models import Submission
from botarena.agents.status import SubmissionStatus
from botarena.builds.queue import BuildQueue
from botarena.builds.schemas import StatusChange
from botarena.db.engine import SessionFactory, build_engine

from support.accounts import Account
from support.api import create_agent, submit_url

STATUS = "/api/v1/submissions/{}/build-status"


def _status(client: TestClient, submission_id: str, **kwargs: Any) -> dict[str, Any]:
    answer = client.get(STATUS.format(submission_id), **kwargs)
    assert answer.status_code == 200, answer.text
    body: dict[str, Any] = answer.json()
    return body


def test_every_field_is_the_rows_and_the_history_comes_oldest_first(
    client: TestClient, alice: Account, session_factory: SessionFactory
) -> None:
    sub = submit_url(client, alice, create_agent(client, alice, "fields"))
    with session_factory() as session:
        row = session.get(Submission, sub)
        assert row is not None
        row.move_to(SubmissionStatus.BUILDING, reason="taken")
        row.move_to(SubmissionStatus.BUILD_FAILED, reason="broke")
        row.move_to(SubmissionStatus.BUILDING, reason="rebuild")
        row.move_to(SubmissionStatus.SUCCESS, reason="built")
        row.build_job_name = "build-job-9"
        row.docker_image_url = "registry.example/agents/fields:9"
        row.error_message = "an earlier attempt broke"
        row.artifact = json.dumps({"warnings": ["CVE-1 in libfoo", "CVE-2 in libbar"]})
        session.commit()
        events = [(e.status, e.at) for e in row.status_events]
        expected = {
            "submissionId": sub,
            "status": "success",
            "buildJobName": "build-job-9",
            "buildPodName": None,
            "dockerImageUrl": "registry.example/agents/fields:9",
            "errorMessage": "an earlier attempt broke",
            "warnings": ["CVE-1 in libfoo", "CVE-2 in libbar"],
            "queuePosition": None,
        }
        created, updated = row.created_at, row.updated_at
    body = _status(client, sub)
    assert {key: body[key] for key in expected} == expected
    assert [h["status"] for h in body["statusHistory"]] == [
        "pending",
        "building",
        "build_failed",
        "building",
        "success",
    ]
    # The same instants the ORM reads, written as the API writes every time.
    assert [h["at"] for h in body["statusHistory"]] == [_json(at) for _, at in events]
    assert (body["createdAt"], body["updatedAt"]) == (_json(created), _json(updated))


def _json(at: datetime) -> str:
    text: str = StatusChange(status="x", at=at).model_dump(mode="json")["at"]
    return text


def test_queue_positions_are_the_order_builders_take_them_in(
    client: TestClient, alice: Account, session_factory: SessionFactory
) -> None:
    a, b = create_agent(client, alice, "qa", "rps"), create_agent(client, alice, "qb", "rps")
    a1 = submit_url(client, alice, a)
    a2 = submit_url(client, alice, a)  # a re-submission: behind every first submission
    b1 = submit_url(client, alice, b)
    a3 = submit_url(client, alice, a)
    b2 = submit_url(client, alice, b)
    with session_factory() as session:
        rows = {sub: session.get(Submission, sub) for sub in (a1, a2, b1, a3, b2)}
        assert all(rows.values())
        rows[a3].priority = 5  # type: ignore[union-attr]  # raised by an admin
        # The same instant as a1: the id breaks the tie.
        rows[b1].created_at = rows[a1].created_at  # type: ignore[union-attr]
        # A rebuild asked for and not taken yet: building, no worker; it waits in line too.
        rows[b2].move_to(SubmissionStatus.BUILDING)  # type: ignore[union-attr]
        rows[b2].created_at = rows[a1].created_at - timedelta(hours=1)  # type: ignore[union-attr]
        session.commit()
        lineup = [s.id for s in BuildQueue(session).lineup(10)]
    positions = {sub: _status(client, sub)["queuePosition"] for sub in lineup}
    assert sorted(lineup, key=lambda sub: positions[sub]) == lineup
    assert sorted(positions.values()) == list(range(5))
    assert lineup[0] == a3 and lineup[-1] == a2


def test_a_change_shows_in_the_very_next_request(
    client: TestClient, alice: Account, session_factory: SessionFactory
) -> None:
    agent = create_agent(client, alice, "changes", "rps")
    first, second = submit_url(client, alice, agent), submit_url(client, alice, agent)
    assert _status(client, second)["queuePosition"] == 1
    with session_factory() as session:  # an admin raises the second: it goes first
        row = session.get(Submission, second)
        assert row is not None
        row.priority = 3
        session.commit()
    assert _status(client, second)["queuePosition"] == 0
    assert _status(client, first)["queuePosition"] == 1
    with session_factory() as session:  # a builder takes it: it leaves the queue
        claimed = BuildQueue(session).claim_next("w1", "local", 60)
        session.commit()
        assert claimed is not None and claimed.id == second
    taken = _status(client, second)
    assert taken["status"] == "building" and taken["queuePosition"] is None
    assert [h["status"] for h in taken["statusHistory"]] == ["pending", "building"]
    assert _status(client, first)["queuePosition"] == 0


def test_the_token_is_checked_as_on_every_route(client: TestClient, alice: Account) -> None:
    sub = submit_url(client, alice, create_agent(client, alice, "tokens", "rps"))
    assert _status(client, sub)["submissionId"] == sub  # anonymous
    assert _status(client, sub, headers=alice.headers)["submissionId"] == sub
    bad = {"Authorization": "Bearer not-a-token"}
    assert client.get(STATUS.format(sub), headers=bad).status_code == 401
    # A bad token is refused before the submission is looked up, as before.
    assert client.get(STATUS.format("sub_nothing"), headers=bad).status_code == 401
    assert client.get(STATUS.format(sub), headers={"Authorization": "Basic x"}).status_code == 401
    missing = client.get(STATUS.format("sub_nothing"))
    assert missing.status_code == 404 and missing.json()["error"] == "Submission not found"


# PostgreSQL closes connections; an SQLite file has none to close.
@pytest.mark.parametrize(
    "database_url", [pytest.param("postgres", marks=pytest.mark.postgres)], indirect=True
)
def test_connections_cut_under_the_pool_are_replaced_before_the_next_answer(
    client: TestClient, alice: Account, database_url: str
) -> None:
    # What a restart of PostgreSQL leaves in the pool: connections the server closed. The
    # status session checks each connection it borrows, so the next answers are 200.
    sub = submit_url(client, alice, create_agent(client, alice, "cut", "rps"))
    for _ in range(3):
        assert _status(client, sub)["submissionId"] == sub
    admin = build_engine(database_url)
    try:
        with admin.connect() as connection:
            cut = connection.execute(
                text(
                    "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity"
                    " WHERE datname = current_database() AND pid <> pg_backend_pid()"
                    " AND state = 'idle' AND query NOT ILIKE '%LISTEN%'"
                )
            ).scalar()
        assert cut and cut >= 1
    finally:
        admin.dispose()
    for _ in range(3):
        assert _status(client, sub)["submissionId"] == sub
