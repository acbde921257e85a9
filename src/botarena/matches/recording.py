"""Recording what became of a match an executor played: its result, replay and logs, what it
says of the agents, and what later stages make of it (through the finished-match hook)."""

from __future__ import annotations

import json

import structlog
from sqlalchemy import select
from sqlalchemy.orm import Session

from botarena.agents.models import Submission
from botarena.agents.status import SubmissionStatus
from botarena.clock import utcnow
from botarena.executor.outcomes import AgentStatus, MatchResult
from botarena.jobs.queue import JobQueue
from botarena.matches.hooks import FinishedMatchHook
from botarena.matches.models import Match, MatchPlayer
from botarena.matches.queue import match_jobs
from botarena.matches.status import MatchState
from botarena.metrics import definitions as metrics
from botarena.settings import Settings
from botarena.storage import match_dir

log = structlog.get_logger(__name__)


class MatchRecorder:
    """Writes finished matches; the caller holds the match's lease and commits.

    ``finished`` is required: a ranked match recorded without the ratings' hook would lose
    its rating update for good.
    """

    def __init__(self, session: Session, settings: Settings, finished: FinishedMatchHook) -> None:
        self.session = session
        self.settings = settings
        self.finished = finished

    def record(self, match: Match, result: MatchResult) -> None:
        """Write a finished match's result, replay and logs, and what it says of the agents."""
        folder = match_dir(self.settings, match.id)
        folder.mkdir(parents=True, exist_ok=True)
        (folder / "replay.json").write_text(result.replay_text())
        for player, outcome in enumerate(result.agents):
            (folder / f"player-{player}.log").write_text(outcome.log, encoding="utf-8")
        # What the hook changes is locked before the match is stamped finished, and changed
        # after: updates happen in the order matches finished.
        # The seats are loaded before the match changes, so that loading them does not flush
        # the match halfway (one UPDATE of it, not two).
        seats = list(match.players)
        after_finished = self.finished.prepare(self.session, match)
        now = utcnow()
        JobQueue(self.session, match_jobs()).release(match)
        match.winner = result.winner
        match.scores = json.dumps(result.scores)
        match.turns = result.turns
        match.duration_ms = result.duration_ms
        match.finished_at = now
        for seat, outcome in zip(seats, result.agents, strict=True):
            seat.outcome = outcome.status.value
            seat.reason = outcome.reason
        match.move_to(MatchState.FINISHED, at=now)
        metrics.match_recorded(match.game, result.duration_ms / 1000)
        after_finished(now)
        self.session.flush()
        for seat in seats:
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
