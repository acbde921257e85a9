"""The build queue in the database: order, backoff, leases, and no double claims."""

from __future__ import annotations

import threading
from datetime import timedelta

from fastapi.testclient import TestClient

from botarena.agents.models import Submission
from botarena.builds.queue import BuildQueue
from botarena.clock import utcnow
from botarena.db.engine import SessionFactory

from support.accounts import Account
from support.api import create_agent, submit_url


def _claim_all(factory: SessionFactory) -> list[str]:
    claimed = []
    while True:
        with factory() as session:
            submission = BuildQueue(session).claim_next("w1", "local", 60)
            session.commit()
            if submission is None:
                return claimed
            claimed.append(submission.id)


def test_queue_order(client: TestClient, alice: Account, session_factory: SessionFactory) -> None:
    a, b = create_agent(client, alice, "a", "rps"), create_agent(client, alice, "b", "rps")
    a1 = submit_url(client, alice, a)
    a2 = submit_url(client, alice, a)  # a re-submission: behind every first submission
    b1 = submit_url(client, alice, b)
    a3 = submit_url(client, alice, a)
    with session_factory() as session:
        row = session.get(Submission, a3)
        assert row is not None
        row.priority = 5  # raised by an admin: first of all
        session.commit()
    assert _claim_all(session_factory) == [a3, a1, b1, a2]


def test_claim_records_the_attempt_and_lease(
    client: TestClient, alice: Account, session_factory: SessionFactory
) -> None:
    sub = submit_url(client, alice, create_agent(client, alice, "a", "rps"))
    with session_factory() as session:
        claimed = BuildQueue(session).claim_next("worker-7", "local", 30)
        session.commit()
        assert claimed is not None and claimed.id == sub
    status = client.get(f"/api/v1/submissions/{sub}/build-status").json()
    assert status["status"] == "building"
    assert status["buildJobName"] == f"build-{sub}"
    assert status["queuePosition"] is None
    assert [h["status"] for h in status["statusHistory"]] == ["pending", "building"]
    with session_factory() as session:
        row = session.get(Submission, sub)
        assert row is not None and row.attempts == 1 and row.lease_owner == "worker-7"
        assert row.lease_until is not None and row.lease_until > utcnow() + timedelta(seconds=20)


def test_backoff_is_respected(
    client: TestClient, alice: Account, session_factory: SessionFactory
) -> None:
    sub = submit_url(client, alice, create_agent(client, alice, "a", "rps"))
    with session_factory() as session:
        row = session.get(Submission, sub)
        assert row is not None
        row.not_before = utcnow() + timedelta(minutes=5)
        session.commit()
        assert BuildQueue(session).claim_next("w", "local", 60) is None
        later = utcnow() + timedelta(minutes=6)
        assert BuildQueue(session).claim_next("w", "local", 60, now=later) is not None


def test_leases_renew_and_expire(
    client: TestClient, alice: Account, session_factory: SessionFactory
) -> None:
    sub = submit_url(client, alice, create_agent(client, alice, "a", "rps"))
    with session_factory() as session:
        queue = BuildQueue(session)
        assert queue.claim_next("w1", "local", 10) is not None
        assert queue.renew(sub, "w1", 10)
        assert not queue.renew(sub, "someone-else", 10)
        assert queue.expired() == []
        assert [s.id for s in queue.expired(now=utcnow() + timedelta(seconds=11))] == [sub]
        session.commit()


def test_concurrent_workers_never_share_a_build(
    client: TestClient, alice: Account, session_factory: SessionFactory
) -> None:
    agent = create_agent(client, alice, "a", "rps")
    subs = {submit_url(client, alice, agent) for _ in range(8)}
    claimed: list[str] = []
    lock = threading.Lock()
    barrier = threading.Barrier(4)

    def worker(name: str) -> None:
        barrier.wait()
        while True:
            with session_factory() as session:
                submission = BuildQueue(session).claim_next(name, "local", 60)
                session.commit()
                if submission is None:
                    return
                with lock:
                    claimed.append(submission.id)

    threads = [threading.Thread(target=worker, args=(f"w{i}",)) for i in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert sorted(claimed) == sorted(subs)
