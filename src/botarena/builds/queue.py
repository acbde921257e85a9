"""The build queue, kept in the database: pending submissions, claimed under a lease.

A worker claims the first pending submission in queue order (priority, then an agent's first
submission before its re-submissions, then age) whose backoff has passed, and holds it with a
lease that its heartbeat renews. A worker that dies simply stops renewing: the monitor hands
the submission back to the queue once the lease has run out.
"""

from __future__ import annotations

import functools
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, and_, case, func, or_, select
from sqlalchemy.orm import Session, selectinload

from botarena.agents.models import Agent, Submission
from botarena.agents.status import SubmissionStatus
from botarena.jobs.backoff import Backoff
from botarena.jobs.queue import JobQueue
from botarena.jobs.table import JobTable

PENDING = SubmissionStatus.PENDING.value
BUILDING = SubmissionStatus.BUILDING.value


def queue_order() -> tuple[ColumnElement[Any], ...]:
    """The order in which pending builds are taken."""
    resubmission = case((Submission.version == 1, 0), else_=1)
    return (
        Submission.priority.desc(),
        resubmission,
        Submission.created_at.asc(),
        Submission.id.asc(),
    )


def waiting_for_a_builder() -> ColumnElement[bool]:
    """Pending builds, and requested rebuilds (``building`` with no worker holding them yet)."""
    return or_(
        Submission.status == PENDING,
        and_(Submission.status == BUILDING, Submission.lease_owner.is_(None)),
    )


# Builds lost to the platform are tried up to three times, waiting about 5 s, 10 s, … 5 min.
BUILD_RETRY = Backoff(max_attempts=3, base_seconds=5.0, cap_seconds=300.0)


@functools.cache
def build_jobs() -> JobTable[Submission]:
    """Submissions as build jobs: a rebuild waits as ``building`` with no worker holding it."""
    return JobTable(
        Submission,
        queued=SubmissionStatus.PENDING,
        running=SubmissionStatus.BUILDING,
        waiting=waiting_for_a_builder(),
        holding=and_(Submission.status == BUILDING, Submission.lease_owner.is_not(None)),
        order=queue_order(),
        heartbeat="heartbeat_at",
        name="builds",
    )


class BuildQueue:
    """Claims, renews and releases build jobs; the caller commits."""

    def __init__(self, session: Session) -> None:
        self.session = session
        self.jobs = JobQueue(session, build_jobs())

    def claim_next(
        self, worker: str, backend: str, lease_seconds: float, now: datetime | None = None
    ) -> Submission | None:
        """Take the next ready pending submission for ``worker``, or None when there is none;
        no two workers ever take the same one."""
        submission = self.jobs.claim(worker, lease_seconds, now=now)
        if submission is None:
            return None
        submission.build_backend = backend
        submission.build_job_name = f"build-{submission.id}"
        self.session.flush()
        return submission

    def renew(
        self, submission_id: str, worker: str, lease_seconds: float, now: datetime | None = None
    ) -> bool:
        """Extend the lease; False when the worker no longer holds it (it must stop)."""
        return self.jobs.renew(submission_id, worker, lease_seconds, now)

    def expired(self, now: datetime | None = None) -> Sequence[Submission]:
        """Building submissions whose lease ran out: their worker is gone."""
        return self.jobs.expired(now)

    def building(self) -> Sequence[Submission]:
        """Builds a worker holds now."""
        return self.jobs.holding()

    def counts(self) -> tuple[int, int]:
        """How many builds wait for a builder, and how many a builder holds now."""
        held = and_(Submission.status == BUILDING, Submission.lease_owner.is_not(None))
        waiting, building = self.session.execute(
            select(
                func.count().filter(waiting_for_a_builder()),
                func.count().filter(held),
            ).where(Submission.status.in_((PENDING, BUILDING)))
        ).one()
        return int(waiting), int(building)

    def lineup(self, limit: int) -> Sequence[Submission]:
        """The builds a builder holds now, then those waiting, in the order they will be
        taken (at most ``limit``), with their agents and owners."""
        held = case(
            (and_(Submission.status == BUILDING, Submission.lease_owner.is_not(None)), 0),
            else_=1,
        )
        return self.session.scalars(
            select(Submission)
            .where(Submission.status.in_((PENDING, BUILDING)))
            .options(selectinload(Submission.agent).selectinload(Agent.owner))
            .order_by(held, *queue_order())
            .limit(limit)
        ).all()

    def waiting_attempts(self) -> dict[str, int]:
        """The attempts of every submission pending or building: what a backend's leftovers
        may still be waited for by."""
        rows = self.session.execute(
            select(Submission.id, Submission.attempts).where(
                Submission.status.in_((PENDING, BUILDING))
            )
        ).all()
        return {row.id: int(row.attempts) for row in rows}

    def held(self, submission_id: str, worker: str) -> Submission | None:
        """The submission, locked, while ``worker`` holds it; else None."""
        return self.jobs.held(submission_id, worker)
