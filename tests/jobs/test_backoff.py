"""The backoff of the leased-job queue: exponential, capped, jittered within its bounds."""

from __future__ import annotations

import math
from typing import Any

import pytest

from botarena.jobs.backoff import Backoff

SAMPLES = 500


@pytest.mark.parametrize(
    ("attempt", "ceiling"), [(0, 5.0), (1, 5.0), (2, 10.0), (3, 20.0), (6, 160.0), (7, 300.0)]
)
def test_the_wait_doubles_per_attempt_up_to_the_cap(attempt: int, ceiling: float) -> None:
    backoff = Backoff(max_attempts=10, base_seconds=5.0, cap_seconds=300.0)
    assert backoff.ceiling(attempt) == ceiling
    delays = [backoff.delay(attempt) for _ in range(SAMPLES)]
    assert all(ceiling / 2 <= d <= ceiling for d in delays), (min(delays), max(delays))
    # Jittered over the upper half, not a constant: jobs failed together spread out.
    assert min(delays) < ceiling * 0.6
    assert max(delays) > ceiling * 0.9


def test_without_a_cap_the_wait_keeps_doubling() -> None:
    backoff = Backoff(max_attempts=40, base_seconds=2.0)
    assert [backoff.ceiling(n) for n in (1, 2, 3, 4, 11)] == [2.0, 4.0, 8.0, 16.0, 2048.0]
    assert 1024.0 <= backoff.delay(11) <= 2048.0


def test_a_huge_attempt_number_is_the_cap_not_an_overflow() -> None:
    assert Backoff(max_attempts=3, base_seconds=5.0, cap_seconds=60.0).ceiling(10_000) == 60.0
    assert math.isfinite(Backoff(max_attempts=3, base_seconds=5.0).delay(2_000))


def test_attempts_run_out_at_the_maximum() -> None:
    backoff = Backoff(max_attempts=3, base_seconds=1.0)
    assert [backoff.exhausted(n) for n in range(5)] == [False, False, False, True, True]
    assert Backoff(max_attempts=1, base_seconds=1.0).exhausted(1)


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        ({"max_attempts": 0, "base_seconds": 1.0}, "max_attempts"),
        ({"max_attempts": 3, "base_seconds": -1.0}, "base_seconds"),
        ({"max_attempts": 3, "base_seconds": math.nan}, "base_seconds"),
        ({"max_attempts": 3, "base_seconds": 10.0, "cap_seconds": 5.0}, "cap_seconds"),
    ],
)
def test_a_nonsensical_backoff_is_refused(arguments: dict[str, Any], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        Backoff(**arguments)
