"""The status machine: every pair of statuses is either allowed or refused, as the spec says."""

from __future__ import annotations

import itertools

import pytest

from botarena.agents.status import (
    TRANSITIONS,
    IllegalTransitionError,
    SubmissionStatus,
    can_transition,
    check_transition,
)

S = SubmissionStatus

LEGAL = {
    (S.PENDING, S.BUILDING),
    (S.BUILDING, S.SUCCESS),
    (S.BUILDING, S.BUILD_FAILED),
    (S.BUILDING, S.PENDING),
    (S.SUCCESS, S.ACTIVE),
    (S.ACTIVE, S.INACTIVE),
    (S.INACTIVE, S.ACTIVE),
    (S.SUCCESS, S.BUILDING),
    (S.BUILD_FAILED, S.BUILDING),
    (S.FAILED, S.BUILDING),
    (S.INACTIVE, S.BUILDING),
    (S.ACTIVE, S.FAILED),
}
ALL_PAIRS = list(itertools.product(S, S))


def test_exactly_the_seven_statuses() -> None:
    assert [s.value for s in S] == [
        "pending",
        "building",
        "success",
        "build_failed",
        "active",
        "failed",
        "inactive",
    ]
    assert set(TRANSITIONS) == set(S)


@pytest.mark.parametrize(("current", "new"), sorted(LEGAL))
def test_legal_transition(current: S, new: S) -> None:
    assert can_transition(current, new)
    check_transition(current, new)


@pytest.mark.parametrize(("current", "new"), [pair for pair in ALL_PAIRS if pair not in LEGAL])
def test_illegal_transition(current: S, new: S) -> None:
    assert not can_transition(current, new)
    with pytest.raises(IllegalTransitionError) as caught:
        check_transition(current, new)
    assert caught.value.status_code == 409
    assert caught.value.error == f"Submission cannot go from {current.value} to {new.value}"
