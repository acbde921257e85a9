"""How often a job is tried again after failures of the platform's own, and how long it waits."""

from __future__ import annotations

import math
import random
from dataclasses import dataclass

# Past this many doublings every wait is the cap anyway (and 2.0**1024 overflows).
_MAX_DOUBLINGS = 1000


@dataclass(frozen=True)
class Backoff:
    """Up to ``max_attempts`` attempts; before attempt n+1 a wait that doubles from
    ``base_seconds`` at each attempt, up to ``cap_seconds``, with jitter so that jobs failed
    together are not all retried together."""

    max_attempts: int
    base_seconds: float
    cap_seconds: float = math.inf

    def __post_init__(self) -> None:
        if self.max_attempts < 1:
            raise ValueError(f"max_attempts must be at least 1, not {self.max_attempts}")
        if not self.base_seconds >= 0:
            raise ValueError(f"base_seconds must be 0 or more, not {self.base_seconds}")
        if not self.cap_seconds >= self.base_seconds:
            raise ValueError(
                f"cap_seconds ({self.cap_seconds}) must be at least base_seconds "
                f"({self.base_seconds})"
            )

    def ceiling(self, attempt: int) -> float:
        """The longest wait after ``attempt`` attempts."""
        doublings = min(max(attempt - 1, 0), _MAX_DOUBLINGS)
        return min(self.cap_seconds, self.base_seconds * 2.0**doublings)

    def delay(self, attempt: int) -> float:
        """The wait after ``attempt`` attempts: between half the ceiling and the ceiling."""
        ceiling = self.ceiling(attempt)
        jitter: float = random.uniform(0, ceiling / 2)  # noqa: S311 - spreading, not secrecy
        return ceiling / 2 + jitter

    def exhausted(self, attempts: int) -> bool:
        """True when a job that has had ``attempts`` attempts gets no more."""
        return attempts >= self.max_attempts
