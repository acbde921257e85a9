"""The match queue in the database: matches claimed under a lease, handed back on failure.

A dispatcher slot claims the oldest queued match whose backoff has passed and holds it with a
lease that the executor's heartbeats renew. A result is written only under that lease (see
:mod:`botarena.matches.recording`), so a repeated or late report changes nothing. A match
whose executor died or whose lease ran out goes back to the queue with exponential backoff,
up to ``match_max_attempts`` attempts, then ends ``error``: never an agent's loss.
"""

from __future__ import annotations

import functools
from collections.abc import Sequence
from datetime import datetime

import structlog
from sqlalchemy.orm import Session

from botarena.clock import utcnow
from botarena.executor.outcomes import MatchResult, MatchStatus
from botarena.jobs.backoff import Backoff
from botarena.jobs.queue import JobQueue
from botarena.jobs.table import JobTable
from botarena.matches.models import Match
from botarena.matches.status import MatchState
from botarena.metrics import definitions as metrics
from botarena.settings import Settings

log = structlog.get_logger(__name__)

QUEUED = MatchState.QUEUED.value
RUNNING = MatchState.RUNNING.value
# The wait before the second attempt is 1 to 2 s, and it doubles at each attempt.
_BACKOFF_SECONDS = 2.0


@functools.cache
def match_jobs() -> JobTable[Match]:
    """Matches as jobs: the oldest queued first."""
    return JobTable(
        Match,
        queued=MatchState.QUEUED,
        running=MatchState.RUNNING,
        waiting=Match.status == QUEUED,
        holding=Match.status == RUNNING,
        order=(Match.created_at.asc(), Match.id.asc()),
    )


class MatchQueue:
    """Claims, renews and hands back matches; the caller commits."""

    def __init__(self, session: Session, settings: Settings) -> None:
        self.session = session
        self.settings = settings
        self.jobs = JobQueue(session, match_jobs())
        self.backoff = Backoff(settings.match_max_attempts, base_seconds=_BACKOFF_SECONDS)

    def claim_next(self, worker: str, executor: str, now: datetime | None = None) -> Match | None:
        match = self.jobs.claim(worker, self.settings.match_lease_seconds, on=executor, now=now)
        if match is None:
            return None
        match.executor = executor
        self.session.flush()
        return match

    def renew(self, match_id: str, worker: str, now: datetime | None = None) -> bool:
        """Extend the lease; False when ``worker`` no longer holds it."""
        return self.jobs.renew(match_id, worker, self.settings.match_lease_seconds, now)

    def expired(self, now: datetime | None = None) -> Sequence[Match]:
        return self.jobs.expired(now)

    def held(self, match_id: str, worker: str) -> Match | None:
        """The match, locked, while ``worker`` holds it; else None (nothing may be written)."""
        return self.jobs.held(match_id, worker)

    def fail(self, match: Match, why: str) -> None:
        """End a match that can never be played as ``error`` (it counts for no one)."""
        self.jobs.release(match)
        match.error = why
        match.finished_at = utcnow()
        match.move_to(MatchState.ERROR, reason=why)
        metrics.match_errored()

    def cancel(self, match: Match, why: str) -> None:
        """End a queued or running match as ``cancelled``: no one holds it any more, so a
        result that arrives late is ignored, and its dispatcher hears of it on the event bus
        (or at its next heartbeat) and stops it on its executor."""
        self.jobs.release(match)
        match.finished_at = utcnow()
        match.move_to(MatchState.CANCELLED, reason=why)
        metrics.match_cancelled()

    def give_back(self, match: Match, why: str) -> None:
        """Back to the queue at once, its attempt given back: a match claimed ahead that its
        slot never sent (the slot stopped, or its executor failed another match)."""
        self.jobs.requeue(match, f"given back: {why}", counted=False)

    def hand_back(self, match: Match, why: str) -> None:
        """Back to the queue after a failure of the platform's own, or ``error`` after the
        last attempt."""
        if not self.jobs.hand_back(match, why, self.backoff):
            self.fail(match, f"the platform failed {match.attempts} times; last: {why}")
        log.warning("match handed back", match_id=match.id, why=why, attempts=match.attempts)


def is_platform_error(result: MatchResult) -> bool:
    """An ``error`` result: the platform could not play the match (retried, never counted)."""
    return result.status is MatchStatus.ERROR
