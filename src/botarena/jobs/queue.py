"""The leased-job queue: claim, renew, expire, hold, release and hand back jobs of one table.

A worker claims the first waiting job (in the table's order) whose backoff has passed and
holds it under a lease that it renews while it works. Whatever it writes afterwards, it
writes only while it still holds the lease (:meth:`JobQueue.held`), so a worker that lost
its job (its lease ran out and the job went to another) changes nothing. A worker that dies
simply stops renewing: a monitor finds the job among :meth:`JobQueue.expired` and hands it
back. Every method works in the caller's session, and the caller commits.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Generic

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from botarena.clock import utcnow
from botarena.jobs.backoff import Backoff
from botarena.jobs.table import J, JobTable, as_job
from botarena.metrics import definitions as metrics


class JobQueue(Generic[J]):
    """The jobs of one table, seen from the workers' side."""

    def __init__(self, session: Session, table: JobTable[J]) -> None:
        self.session = session
        self.table = table

    def claim(
        self,
        worker: str,
        lease_seconds: float,
        *,
        on: str | None = None,
        now: datetime | None = None,
    ) -> J | None:
        """Take the next waiting job for ``worker``, or None when none is ready.

        The attempt is counted and the job moves to the running status, its history saying
        "attempt n on ``on``" (default: the worker). On PostgreSQL concurrent workers skip
        each other's locked rows; SQLite serialises writers (every writing transaction begins
        IMMEDIATE), so the same job is never claimed twice. The row stays locked, and the
        claim unwritten, until the caller flushes or commits: it may stamp the job with
        columns of its own first, and the claim is then one UPDATE.
        """
        now = now or utcnow()
        not_before = self.table.column("not_before")
        row: J | None = self.session.scalar(
            select(self.table.model)
            .where(self.table.waiting, or_(not_before.is_(None), not_before <= now))
            .order_by(*self.table.order)
            .limit(1)
            .with_for_update(skip_locked=True)
        )
        if row is None:
            return None
        job = as_job(row)
        job.attempts += 1
        if job.attempts > 1:
            metrics.retried(self.table.queue_name)
        if job.status != self.table.running.value:
            job.move_to(
                self.table.running, reason=f"attempt {job.attempts} on {on or worker}", at=now
            )
        self._lease(row, worker, lease_seconds, now)
        job.not_before = None
        return row

    def renew(
        self, job_id: str, worker: str, lease_seconds: float, now: datetime | None = None
    ) -> bool:
        """Extend ``worker``'s lease; False when it no longer holds the job (it must stop)."""
        row = self.session.get(self.table.model, job_id)
        if row is None or not self._holds(row, worker):
            return False
        self._lease(row, worker, lease_seconds, now or utcnow())
        self.session.flush()
        return True

    def holding(self) -> Sequence[J]:
        """The jobs some worker holds now."""
        return self.session.scalars(select(self.table.model).where(self.table.holding)).all()

    def expired(self, now: datetime | None = None) -> Sequence[J]:
        """The held jobs whose lease has run out: their worker is gone."""
        now = now or utcnow()
        until = self.table.column("lease_until")
        return self.session.scalars(
            select(self.table.model).where(self.table.holding, or_(until.is_(None), until < now))
        ).all()

    def held(self, job_id: str, worker: str) -> J | None:
        """The job, locked, while ``worker`` holds it; else None (nothing may be written)."""
        row = self.session.get(self.table.model, job_id, with_for_update=True)
        if row is None or not self._holds(row, worker):
            return None
        return row

    def release(self, row: J) -> None:
        """No worker holds the job any more (the caller gives it its next status)."""
        job = as_job(row)
        job.lease_owner = None
        job.lease_until = None

    def requeue(
        self,
        row: J,
        reason: str,
        *,
        delay: float | None = None,
        counted: bool = True,
        now: datetime | None = None,
    ) -> None:
        """Release the job and put it back in the queue, to be taken again after ``delay``
        seconds (None: at once); ``counted=False`` gives back the attempt it used."""
        now = now or utcnow()
        self.release(row)
        job = as_job(row)
        if not counted:
            job.attempts = max(job.attempts - 1, 0)
        job.move_to(self.table.queued, reason=reason, at=now)
        job.not_before = None if delay is None else now + timedelta(seconds=delay)

    def hand_back(
        self,
        row: J,
        why: str,
        backoff: Backoff,
        *,
        at_once: bool = False,
        now: datetime | None = None,
    ) -> bool:
        """After a failure of the platform's own: back to the queue ("handed back: ``why``")
        after the backoff's delay (``at_once``: without one), and True; or, when the job has
        used its last attempt, only released, and False: the caller ends it."""
        attempts = as_job(row).attempts
        metrics.handed_back(self.table.queue_name)
        if backoff.exhausted(attempts):
            self.release(row)
            return False
        delay = None if at_once else backoff.delay(attempts)
        self.requeue(row, f"handed back: {why}", delay=delay, now=now)
        return True

    def _holds(self, row: J, worker: str) -> bool:
        job = as_job(row)
        return job.status == self.table.running.value and job.lease_owner == worker

    def _lease(self, row: J, worker: str, lease_seconds: float, now: datetime) -> None:
        job = as_job(row)
        job.lease_owner = worker
        job.lease_until = now + timedelta(seconds=lease_seconds)
        if self.table.heartbeat is not None:
            setattr(row, self.table.heartbeat, now)
