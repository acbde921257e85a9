"""What re-running a finished match needs (``botarena rerun``): its seed, game, configuration
overrides and recorded result, and for each seat the submission and where to download its code.

Only a caller who may download both submissions (:func:`may_download_submission`) gets it, and
only for a match that finished: an error or a cancellation has no result to reproduce.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from sqlalchemy.orm import Session, selectinload

from botarena.accounts.models import User
from botarena.agents.models import Submission
from botarena.agents.service import may_download_submission
from botarena.errors import AppError, conflict, forbidden, not_found
from botarena.matches.models import Match, MatchPlayer
from botarena.matches.status import MatchState


@dataclass(frozen=True)
class RerunSeat:
    """One seat: its player, agent and submission (with where the code came from)."""

    seat: MatchPlayer
    submission: Submission


@dataclass(frozen=True)
class RerunPlan:
    """A finished match as a rerun needs it."""

    match: Match
    configuration: dict[str, Any]
    seats: list[RerunSeat]


def rerun_plan(session: Session, user: User, match_id: str) -> RerunPlan:
    """The match's rerun plan; 404 for no such match, 403 unless ``user`` may download every
    seat's code, 409 unless the match finished."""
    match = session.get(Match, match_id, options=[selectinload(Match.players)])
    if match is None:
        raise not_found(f"Match {match_id} not found")
    seats = _seats(session, match)
    for seat in seats:
        if not may_download_submission(user, seat.submission):
            raise forbidden(
                f"Only admins and whoever may download both submissions may re-run match "
                f"{match_id}: the code of player {seat.seat.player} "
                f"({seat.submission.agent.name}) is not your team's"
            )
    if match.state is not MatchState.FINISHED:
        raise conflict(
            f"Match {match_id} has not finished (status: {match.status})",
            "Only a finished match has a result to reproduce.",
        )
    return RerunPlan(match, json.loads(match.configuration or "{}"), seats)


def may_rerun(session: Session, user: User | None, match: Match) -> bool:
    """Whether ``user`` may re-run ``match`` now (the rule of :func:`rerun_plan`), for pages
    that offer the command."""
    if user is None or match.state is not MatchState.FINISHED:
        return False
    try:
        seats = _seats(session, match)
    except AppError:
        return False
    return all(may_download_submission(user, seat.submission) for seat in seats)


def _seats(session: Session, match: Match) -> list[RerunSeat]:
    seats = []
    for seat in match.players:
        submission = session.get(
            Submission, seat.submission_id, options=[selectinload(Submission.agent)]
        )
        if submission is None:  # removed with its agent
            raise not_found(f"Match {match.id}'s submission {seat.submission_id} is gone")
        seats.append(RerunSeat(seat, submission))
    return seats
