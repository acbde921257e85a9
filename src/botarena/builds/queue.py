"""The build queue, kept in the database: pending submissions, claimed under a lease.

A worker claims the first pending submission in queue order (priority, then an agent's first
submission before its re-submissions, then age) whose backoff has passed, and holds it with a
lease that its heartbeat renews. A worker that dies simply stops renewing: the monitor hands
the submission back to the queue once the lease has run out.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import ColumnElement, and_, case, or_, select
from sqlalchemy.orm import Session

from botarena.agents.models import Submission
from botarena.agents.status import SubmissionStatus
from botarena.clock import utcnow

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


class BuildQueue:
    """Claims, renews and releases build jobs; the caller commits."""

    def __init__(self, session: Session) -> None:
        self.session = session

    def claim_next(
        self, worker: str, backend: str, lease_seconds: float, now: datetime | None = None
    ) -> Submission | None:
        """Take the next ready pending submission for ``worker``, or None when there is none.

        On PostgreSQL concurrent workers skip each other's locked rows; SQLite serialises
        writers (every transaction begins IMMEDIATE), so the same row is never claimed twice.
        """
        now = now or utcnow()
        query = (
            select(Submission)
            .where(
                waiting_for_a_builder(),
                or_(Submission.not_before.is_(None), Submission.not_before <= now),
            )
            .order_by(*queue_order())
            .limit(1)
            .with_for_update(skip_locked=True)
        )
        submission = self.session.scalar(query)
        if submission is None:
            return None
        submission.attempts += 1
        if submission.status == PENDING:
            submission.move_to(
                SubmissionStatus.BUILDING,
                reason=f"attempt {submission.attempts} on {worker}",
                at=now,
            )
        submission.lease_owner = worker
        submission.lease_until = now + timedelta(seconds=lease_seconds)
        submission.heartbeat_at = now
        submission.build_backend = backend
        submission.build_job_name = f"build-{submission.id}"
        submission.not_before = None
        self.session.flush()
        return submission

    def renew(
        self, submission_id: str, worker: str, lease_seconds: float, now: datetime | None = None
    ) -> bool:
        """Extend the lease; False when the worker no longer holds it (it must stop)."""
        now = now or utcnow()
        submission = self.session.get(Submission, submission_id)
        if submission is None or submission.status != BUILDING or submission.lease_owner != worker:
            return False
        submission.lease_until = now + timedelta(seconds=lease_seconds)
        submission.heartbeat_at = now
        self.session.flush()
        return True

    def expired(self, now: datetime | None = None) -> Sequence[Submission]:
        """Building submissions whose lease ran out: their worker is gone."""
        now = now or utcnow()
        return self.session.scalars(
            select(Submission).where(
                Submission.status == BUILDING,
                Submission.lease_owner.is_not(None),
                or_(Submission.lease_until.is_(None), Submission.lease_until < now),
            )
        ).all()

    def building(self) -> Sequence[Submission]:
        """Builds a worker holds now."""
        return self.session.scalars(
            select(Submission).where(
                Submission.status == BUILDING, Submission.lease_owner.is_not(None)
            )
        ).all()
