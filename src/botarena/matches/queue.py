"""The match queue in the database, and recording what became of a match.

A dispatcher slot claims the oldest queued match whose backoff has passed and holds it with a
lease that the executor's heartbeats renew. A result is written only under that lease and only
while the match runs, so a repeated or late report changes nothing. A match whose executor
died or whose lease ran out goes back to the queue with exponential backoff, up to
``match_max_attempts`` attempts, then ends ``error``: never an agent's loss.
"""

from __future__ import annotations

import json
import random
from collections.abc import Sequence
from datetime import datetime, timedelta

import structlog
from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from botarena.agents.models import Submission
from botarena.agents.status import SubmissionStatus
from botarena.clock import utcnow
from botarena.executor.outcomes import AgentStatus, MatchResult, MatchStatus
from botarena.matches.models import Match, MatchPlayer
from botarena.matches.status import MatchState
from botarena.ratings.book import RatingBook
from botarena.settings import Settings
from botarena.storage import match_dir

log = structlog.get_logger(__name__)

QUEUED = MatchState.QUEUED.value
RUNNING = MatchState.RUNNING.value
_BACKOFF_SECONDS = 2.0


class MatchQueue:
    """Claims, renews, records and hands back matches; the caller commits."""

    def __init__(self, session: Session, settings: Settings) -> None:
        self.session = session
        self.settings = settings

    def claim_next(self, worker: str, executor: str, now: datetime | None = None) -> Match | None:
        now = now or utcnow()
        match = self.session.scalar(
            select(Match)
            .where(
                Match.status == QUEUED,
                or_(Match.not_before.is_(None), Match.not_before <= now),
            )
            .order_by(Match.created_at.asc(), Match.id.asc())
            .limit(1)
            .with_for_update(skip_locked=True)
        )
        if match is None:
            return None
        match.attempts += 1
        match.move_to(MatchState.RUNNING, reason=f"attempt {match.attempts} on {executor}", at=now)
        match.lease_owner = worker
        match.lease_until = now + timedelta(seconds=self.settings.match_lease_seconds)
        match.executor = executor
        match.not_before = None
        self.session.flush()
        return match

    def renew(self, match_id: str, worker: str, now: datetime | None = None) -> bool:
        """Extend the lease; False when ``worker`` no longer holds it."""
        now = now or utcnow()
        match = self.session.get(Match, match_id)
        if match is None or match.status != RUNNING or match.lease_owner != worker:
            return False
        match.lease_until = now + timedelta(seconds=self.settings.match_lease_seconds)
        self.session.flush()
        return True

    def expired(self, now: datetime | None = None) -> Sequence[Match]:
        now = now or utcnow()
        return self.session.scalars(
            select(Match).where(
                Match.status == RUNNING,
                or_(Match.lease_until.is_(None), Match.lease_until < now),
            )
        ).all()

    def held(self, match_id: str, worker: str) -> Match | None:
        """The match, locked, while ``worker`` holds it; else None (nothing may be written)."""
        match = self.session.get(Match, match_id, with_for_update=True)
        if match is None or match.status != RUNNING or match.lease_owner != worker:
            return None
        return match

    def fail(self, match: Match, why: str) -> None:
        """End a match that can never be played as ``error`` (it counts for no one)."""
        match.lease_owner = None
        match.lease_until = None
        match.error = why
        match.finished_at = utcnow()
        match.move_to(MatchState.ERROR, reason=why)

    def hand_back(self, match: Match, why: str) -> None:
        """Back to the queue after a failure of the platform's own, or ``error`` after the
        last attempt."""
        match.lease_owner = None
        match.lease_until = None
        if match.attempts >= self.settings.match_max_attempts:
            self.fail(match, f"the platform failed {match.attempts} times; last: {why}")
        else:
            ceiling = _BACKOFF_SECONDS * 2 ** (match.attempts - 1)
            delay = ceiling / 2 + random.uniform(0, ceiling / 2)  # noqa: S311 - jitter
            match.not_before = utcnow() + timedelta(seconds=delay)
            match.move_to(MatchState.QUEUED, reason=f"handed back: {why}")
        log.warning("match handed back", match_id=match.id, why=why, attempts=match.attempts)

    def record(self, match: Match, result: MatchResult) -> None:
        """Write a finished match's result, replay and logs, and what it says of the agents."""
        folder = match_dir(self.settings, match.id)
        folder.mkdir(parents=True, exist_ok=True)
        (folder / "replay.json").write_text(json.dumps(result.replay))
        for player, outcome in enumerate(result.agents):
            (folder / f"player-{player}.log").write_text(outcome.log, encoding="utf-8")
        # Ratings are locked before the match is stamped finished: updates happen in that order.
        held = (
            RatingBook(self.session).hold([p.submission_id for p in match.players], match.game)
            if match.ranked
            else None
        )
        now = utcnow()
        match.lease_owner = None
        match.lease_until = None
        match.winner = result.winner
        match.scores = json.dumps(result.scores)
        match.turns = result.turns
        match.duration_ms = result.duration_ms
        match.finished_at = now
        for seat, outcome in zip(match.players, result.agents, strict=True):
            seat.outcome = outcome.status.value
            seat.reason = outcome.reason
        match.move_to(MatchState.FINISHED, at=now)
        if held is not None:
            RatingBook(self.session).apply(match, held, now)
        self.session.flush()
        for seat in match.players:
            if seat.outcome == AgentStatus.ERROR.value:
                self._maybe_failed(seat)

    def _maybe_failed(self, seat: MatchPlayer) -> None:
        """An active submission that crashed in each of its last ``failed_after`` matches
        becomes ``failed``."""
        submission = self.session.get(Submission, seat.submission_id)
        if submission is None or submission.status != SubmissionStatus.ACTIVE.value:
            return
        limit = self.settings.failed_after
        recent = self.session.execute(
            select(MatchPlayer.outcome, MatchPlayer.reason)
            .join(Match, Match.id == MatchPlayer.match_id)
            .where(
                MatchPlayer.submission_id == submission.id,
                Match.status == MatchState.FINISHED.value,
            )
            .order_by(Match.finished_at.desc(), Match.id.desc())
            .limit(limit)
        ).all()
        if len(recent) < limit or any(o != AgentStatus.ERROR.value for o, _ in recent):
            return
        message = f"failed: the agent crashed in its last {limit} matches; last: {recent[0][1]}"
        submission.move_to(SubmissionStatus.FAILED, reason=message)
        submission.error_message = message
        log.warning("submission failed", submission_id=submission.id, reason=message)


def is_platform_error(result: MatchResult) -> bool:
    """An ``error`` result: the platform could not play the match (retried, never counted)."""
    return result.status is MatchStatus.ERROR
