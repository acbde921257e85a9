"""The submission status machine: the one place that says which status may follow which.

pending → building (a builder took it)
building → success | build_failed | pending (handed back to the queue for a retry)
success → active; active → inactive; inactive → active (an older version brought back)
success | build_failed | failed | inactive → building (a rebuild)
active → failed (an agent that keeps failing at run time)
"""

from __future__ import annotations

from enum import StrEnum

from botarena.errors import AppError


class SubmissionStatus(StrEnum):
    """Where a submission stands; these seven values and no others."""

    PENDING = "pending"
    BUILDING = "building"
    SUCCESS = "success"
    BUILD_FAILED = "build_failed"
    ACTIVE = "active"
    FAILED = "failed"
    INACTIVE = "inactive"


S = SubmissionStatus

TRANSITIONS: dict[SubmissionStatus, frozenset[SubmissionStatus]] = {
    S.PENDING: frozenset({S.BUILDING}),
    S.BUILDING: frozenset({S.SUCCESS, S.BUILD_FAILED, S.PENDING}),
    S.SUCCESS: frozenset({S.ACTIVE, S.BUILDING}),
    S.BUILD_FAILED: frozenset({S.BUILDING}),
    S.ACTIVE: frozenset({S.INACTIVE, S.FAILED}),
    S.FAILED: frozenset({S.BUILDING}),
    S.INACTIVE: frozenset({S.ACTIVE, S.BUILDING}),
}

INITIAL_STATUS = S.PENDING


class IllegalTransitionError(AppError):
    """A status change that the machine does not allow; nothing is written."""

    def __init__(self, current: SubmissionStatus, new: SubmissionStatus) -> None:
        super().__init__(
            f"Submission cannot go from {current.value} to {new.value}",
            _allowed_sentence(current),
            [],
            409,
        )
        self.current = current
        self.new = new


def can_transition(current: SubmissionStatus, new: SubmissionStatus) -> bool:
    """True when ``new`` may follow ``current``."""
    return new in TRANSITIONS[current]


def check_transition(current: SubmissionStatus, new: SubmissionStatus) -> None:
    """Raise :class:`IllegalTransitionError` unless ``new`` may follow ``current``."""
    if not can_transition(current, new):
        raise IllegalTransitionError(current, new)


def _allowed_sentence(current: SubmissionStatus) -> str:
    allowed = sorted(status.value for status in TRANSITIONS[current])
    return f"From {current.value} it can go to: {', '.join(allowed)}."
