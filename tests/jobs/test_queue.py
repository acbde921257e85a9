"""The leased-job queue on a table of its own, on both databases: order and backoff of
claims, leases renewed and run out, jobs held under lock, hand-back, and no double claims
among concurrent workers."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator, Sequence
from datetime import datetime, timedelta

import pytest
from sqlalchemy import Integer, String, select
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from botarena.clock import utcnow
from botarena.db.engine import SessionFactory
from botarena.jobs.backoff import Backoff
from botarena.jobs.queue import JobQueue
from botarena.jobs.table import JobTable

from support.chores import Chore, ChoreState, chore_database, chore_jobs

WORKING = ChoreState.WORKING.value
WAITING = ChoreState.WAITING.value


@pytest.fixture
def chores(database_url: str) -> Iterator[SessionFactory]:
    with chore_database(database_url) as (_, factory):
        yield factory


def _add(factory: SessionFactory, *ids: str, urgency: int = 0, **values: object) -> None:
    with factory() as session:
        session.add_all(Chore(id=i, urgency=urgency, **values) for i in ids)
        session.commit()


def _row(factory: SessionFactory, chore_id: str) -> Chore:
    with factory() as session:
        row = session.get(Chore, chore_id)
        assert row is not None
        return row


def _claim(
    factory: SessionFactory, worker: str, now: datetime, lease: float = 30.0, **options: str
) -> str | None:
    with factory() as session:
        chore = JobQueue(session, chore_jobs()).claim(worker, lease, now=now, **options)
        session.commit()
        return chore.id if chore else None


def test_claims_follow_the_order_and_wait_out_the_backoff(chores: SessionFactory) -> None:
    now = utcnow()
    _add(chores, "a", "d")
    _add(chores, "b", urgency=5)
    _add(chores, "c", not_before=now + timedelta(minutes=5))
    assert [_claim(chores, "w1", now) for _ in range(4)] == ["b", "a", "d", None]
    assert _claim(chores, "w1", now + timedelta(minutes=6), on="the big machine") == "c"
    for chore_id in "abd":
        row = _row(chores, chore_id)
        assert (row.status, row.attempts, row.lease_owner) == (WORKING, 1, "w1")
        assert row.lease_until == now + timedelta(seconds=30)
        assert row.not_before is None and row.seen_at is None  # this table has no heartbeat
        assert row.steps == ["working: attempt 1 on w1"]
    assert _row(chores, "c").steps == ["working: attempt 1 on the big machine"]


def test_a_claim_stamps_the_heartbeat_where_the_table_has_one(chores: SessionFactory) -> None:
    _add(chores, "a")
    now = utcnow()
    with chores() as session:
        queue = JobQueue(session, chore_jobs(heartbeat=True))
        chore = queue.claim("w1", 30, now=now)
        assert chore is not None and chore.seen_at == now
        assert queue.renew("a", "w1", 30, now=now + timedelta(seconds=7))
        session.commit()
    assert _row(chores, "a").seen_at == now + timedelta(seconds=7)


def test_a_lease_is_renewed_by_its_holder_only(chores: SessionFactory) -> None:
    _add(chores, "a")
    now = utcnow()
    _claim(chores, "w1", now, lease=10)
    with chores() as session:
        queue = JobQueue(session, chore_jobs())
        assert queue.renew("a", "w1", 10, now=now + timedelta(seconds=5))
        assert not queue.renew("a", "w2", 10, now=now + timedelta(seconds=8))
        assert not queue.renew("missing", "w1", 10)
        session.commit()
    assert _row(chores, "a").lease_until == now + timedelta(seconds=15)
    with chores() as session:
        queue = JobQueue(session, chore_jobs())
        chore = queue.held("a", "w1")
        assert chore is not None
        queue.release(chore)
        session.commit()
    row = _row(chores, "a")
    assert row.lease_owner is None and row.lease_until is None
    with chores() as session:
        assert not JobQueue(session, chore_jobs()).renew("a", "w1", 10)


def test_only_held_jobs_whose_lease_ran_out_expire(chores: SessionFactory) -> None:
    _add(chores, "short", "long", "waiting")
    now = utcnow()
    with chores() as session:
        queue = JobQueue(session, chore_jobs())
        assert queue.claim("w1", 10, now=now) is not None  # "long" and "short" by id
        assert queue.claim("w2", 60, now=now) is not None
        session.commit()
        assert _ids(queue.holding()) == ["long", "short"]
        assert queue.expired(now + timedelta(seconds=5)) == []
        assert _ids(queue.expired(now + timedelta(seconds=11))) == ["long"]
        assert _ids(queue.expired(now + timedelta(seconds=61))) == ["long", "short"]
        short = session.get(Chore, "short")
        assert short is not None
        short.lease_until = None  # a lease without an end is no lease
        session.commit()
        assert _ids(queue.expired(now)) == ["short"]


def _ids(chores: Sequence[Chore]) -> list[str]:
    return sorted(c.id for c in chores)


def test_held_is_the_locked_job_of_its_holder_only(chores: SessionFactory) -> None:
    _add(chores, "a", "b")
    _claim(chores, "w1", utcnow())
    with chores() as session:
        queue = JobQueue(session, chore_jobs())
        assert queue.held("a", "w2") is None
        assert queue.held("b", "w1") is None  # waiting: nobody holds it
        assert queue.held("missing", "w1") is None
        held = queue.held("a", "w1")
        assert held is not None and held.id == "a"
        session.rollback()
    # Held means locked: another writer of the row waits until the holder's transaction ends.
    reached = threading.Event()
    with chores() as holder:
        assert JobQueue(holder, chore_jobs()).held("a", "w1") is not None

        def other() -> None:
            with chores() as session:
                JobQueue(session, chore_jobs()).held("a", "w1")
                reached.set()
                session.rollback()

        thread = threading.Thread(target=other)
        thread.start()
        assert not reached.wait(0.5)
        holder.commit()
    thread.join(20)
    assert reached.is_set()


def test_hand_back_waits_out_a_growing_jittered_backoff_then_gives_up(
    chores: SessionFactory,
) -> None:
    _add(chores, "a")
    backoff = Backoff(max_attempts=3, base_seconds=10.0, cap_seconds=15.0)
    now = utcnow()
    for attempt, ceiling in ((1, 10.0), (2, 15.0)):
        assert _claim(chores, "w1", now) == "a"
        with chores() as session:
            queue = JobQueue(session, chore_jobs())
            chore = queue.held("a", "w1")
            assert chore is not None
            assert queue.hand_back(chore, "the worker vanished", backoff, now=now)
            session.commit()
        row = _row(chores, "a")
        assert (row.status, row.attempts, row.lease_owner, row.lease_until) == (
            WAITING,
            attempt,
            None,
            None,
        )
        assert row.steps[-1] == "waiting: handed back: the worker vanished"
        assert row.not_before is not None
        assert now + timedelta(seconds=ceiling / 2) <= row.not_before
        assert row.not_before <= now + timedelta(seconds=ceiling)
        assert _claim(chores, "w1", row.not_before - timedelta(milliseconds=1)) is None
        now = row.not_before
    assert _claim(chores, "w1", now) == "a"
    with chores() as session:
        queue = JobQueue(session, chore_jobs())
        chore = queue.held("a", "w1")
        assert chore is not None
        # The last attempt: released, and left to the caller to end.
        assert not queue.hand_back(chore, "the worker vanished again", backoff, now=now)
        session.commit()
    row = _row(chores, "a")
    assert (row.status, row.attempts, row.lease_owner, row.lease_until) == (WORKING, 3, None, None)
    assert row.steps == [
        "working: attempt 1 on w1",
        "waiting: handed back: the worker vanished",
        "working: attempt 2 on w1",
        "waiting: handed back: the worker vanished",
        "working: attempt 3 on w1",
    ]


def test_a_job_handed_back_at_once_or_uncounted(chores: SessionFactory) -> None:
    _add(chores, "a")
    now = utcnow()
    backoff = Backoff(max_attempts=5, base_seconds=60.0)
    _claim(chores, "w1", now)
    with chores() as session:
        queue = JobQueue(session, chore_jobs())
        chore = queue.held("a", "w1")
        assert chore is not None
        assert queue.hand_back(chore, "restart", backoff, at_once=True, now=now)
        session.commit()
    assert _row(chores, "a").not_before is None
    assert _claim(chores, "w2", now) == "a"
    with chores() as session:
        queue = JobQueue(session, chore_jobs())
        chore = queue.held("a", "w2")
        assert chore is not None
        queue.requeue(chore, "not my fault", delay=3.0, counted=False, now=now)
        session.commit()
    row = _row(chores, "a")
    assert (row.status, row.attempts, row.lease_owner) == (WAITING, 1, None)
    assert row.not_before == now + timedelta(seconds=3)
    assert row.steps[-1] == "waiting: not my fault"


def test_concurrent_workers_never_share_a_job(chores: SessionFactory) -> None:
    ids = [f"chore-{n:02}" for n in range(30)]
    _add(chores, *ids)
    claimed: list[tuple[str, str]] = []
    lock = threading.Lock()
    barrier = threading.Barrier(6)
    failures: list[BaseException] = []

    def worker(name: str) -> None:
        try:
            barrier.wait()
            while True:
                with chores() as session:
                    chore = JobQueue(session, chore_jobs()).claim(name, 60)
                    if chore is None:
                        return
                    time.sleep(0.005)  # widen the window in which a second claim could slip in
                    session.commit()
                    with lock:
                        claimed.append((chore.id, name))
        except BaseException as exc:
            failures.append(exc)

    threads = [threading.Thread(target=worker, args=(f"w{i}",)) for i in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert failures == []
    assert sorted(chore_id for chore_id, _ in claimed) == ids
    with chores() as session:
        rows = session.scalars(select(Chore).order_by(Chore.id)).all()
        owners = dict(claimed)
        assert [(r.id, r.attempts, r.lease_owner) for r in rows] == [(i, 1, owners[i]) for i in ids]
        assert all(len(r.steps) == 1 for r in rows)


class _OtherBase(DeclarativeBase):
    pass


class _NoLease(_OtherBase):
    __tablename__ = "no_lease"

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    status: Mapped[str] = mapped_column(String(16))
    attempts: Mapped[int] = mapped_column(Integer)


def test_a_table_without_the_job_columns_is_refused() -> None:
    with pytest.raises(TypeError, match=r"not_before.*lease_owner.*lease_until"):
        JobTable(
            _NoLease,
            queued=ChoreState.WAITING,
            running=ChoreState.WORKING,
            waiting=_NoLease.status == WAITING,
            holding=_NoLease.status == WORKING,
            order=(_NoLease.id.asc(),),
        )
    with pytest.raises(TypeError, match="heartbeat_at"):
        JobTable(
            Chore,
            queued=ChoreState.WAITING,
            running=ChoreState.WORKING,
            waiting=Chore.status == WAITING,
            holding=Chore.status == WORKING,
            order=(Chore.id.asc(),),
            heartbeat="heartbeat_at",
        )
