"""The match status machine: the one place that says which status may follow which.

queued → running (an executor took it) | cancelled
running → finished | error | queued (handed back: its executor died or its lease ran out)
        | cancelled
"""

from __future__ import annotations

from enum import StrEnum

from botarena.errors import AppError


class MatchState(StrEnum):
    """Where a match stands."""

    QUEUED = "queued"
    RUNNING = "running"
    FINISHED = "finished"
    ERROR = "error"
    CANCELLED = "cancelled"


M = MatchState

TRANSITIONS: dict[MatchState, frozenset[MatchState]] = {
    M.QUEUED: frozenset({M.RUNNING, M.CANCELLED}),
    M.RUNNING: frozenset({M.FINISHED, M.ERROR, M.QUEUED, M.CANCELLED}),
    M.FINISHED: frozenset(),
    M.ERROR: frozenset(),
    M.CANCELLED: frozenset(),
}

ENDED = frozenset({M.FINISHED, M.ERROR, M.CANCELLED})


class IllegalMatchTransitionError(AppError):
    """A status change the machine does not allow; nothing is written."""

    def __init__(self, current: MatchState, new: MatchState) -> None:
        super().__init__(f"Match cannot go from {current.value} to {new.value}", None, [], 409)


def check_match_transition(current: MatchState, new: MatchState) -> None:
    if new not in TRANSITIONS[current]:
        raise IllegalMatchTransitionError(current, new)
