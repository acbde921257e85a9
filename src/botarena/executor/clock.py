"""The fair clock: ``actTimeout`` per turn, and a bank of overage time for turns that run over."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass
class TimeBank:
    """One agent's clock. Time past ``per_turn`` comes out of ``remaining``; below zero, it lost."""

    per_turn: float
    remaining: float

    def deadline_after(self, start: float) -> float:
        """When a turn that began at ``start`` runs out (monotonic seconds)."""
        return start + self.per_turn + max(self.remaining, 0.0)

    def charge(self, elapsed: float) -> bool:
        """Charge one turn's time; False when it took more than the turn and the whole bank."""
        over = elapsed - self.per_turn
        if over > 0:
            self.remaining -= over
        return self.remaining >= 0
