"""The validation match on a submission's page: how each seat ended, for anyone; the replay
and the agent's log in it, for those who may read the build log (owner and admins)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from botarena.agents.models import Submission
from botarena.builds.feed import IN_PROGRESS
from botarena.builds.validation import read_validation
from botarena.games.registry import UnknownGameError, get_game
from botarena.games.replay_view import ReplayViewError, build_view, display_names
from botarena.settings import Settings
from botarena.storage import validation_match_path
from botarena.web.agents.buildlog import clean_line
from botarena.web.matches.views import OUTCOMES


@dataclass(frozen=True)
class ValidationSeat:
    player: int
    outcome: str  # in words
    reason: str | None
    log: list[str] | None  # None: not the viewer's to read


@dataclass(frozen=True)
class ValidationMatch:
    turns: int
    duration_ms: int
    seats: list[ValidationSeat]
    view: dict[str, Any] | None  # the replay viewer's data, for owner and admins


def validation_match(
    settings: Settings, submission: Submission, *, private: bool
) -> ValidationMatch | None:
    """The newest build's validation match; None while it builds or when none was kept."""
    if submission.status in IN_PROGRESS:
        return None  # what is on disk belongs to an earlier build, or to none
    record = read_validation(validation_match_path(settings, submission.id))
    if record is None:
        return None
    logs: list[str] = record.get("logs") or []
    seats = [
        ValidationSeat(
            player,
            OUTCOMES.get(str(agent.get("status")), str(agent.get("status")).lower()),
            agent.get("reason"),
            [clean_line(line) for line in logs[player].splitlines()]
            if private and player < len(logs)
            else None,
        )
        for player, agent in enumerate(record.get("agents") or [])
    ]
    view = _view(submission, record.get("replay") or {}) if private else None
    return ValidationMatch(
        int(record.get("turns") or 0), int(record.get("durationMs") or 0), seats, view
    )


def _view(submission: Submission, replay: dict[str, Any]) -> dict[str, Any] | None:
    try:
        game = get_game(submission.agent.game)
        names = [submission.agent.name] * game.players
        return build_view(game, replay, display_names(game, names))
    except (UnknownGameError, ReplayViewError, KeyError, TypeError, ValueError):
        return None  # a replay this version cannot show: the summary stays
