"""What the dispatcher last heard from each executor: whether it answered its health check,
its slots, and the last error, kept in memory for the admin page (no call per page view)."""

from __future__ import annotations

import threading
from dataclasses import dataclass, replace
from datetime import datetime

from botarena.clock import utcnow


@dataclass(frozen=True)
class ExecutorHealth:
    """One executor as last heard; ``answered`` None until it was first asked."""

    address: str
    embedded: bool
    answered: bool | None = None
    checked_at: datetime | None = None
    isolation: str | None = None
    running: int | None = None
    capacity: int | None = None
    last_error: str | None = None
    last_error_at: datetime | None = None

    @property
    def free(self) -> int | None:
        if self.running is None or self.capacity is None:
            return None
        return max(self.capacity - self.running, 0)


class ExecutorBoard:
    """The latest health of each executor a dispatcher sends matches to; its slots write it
    from their threads, pages read a copy."""

    def __init__(self, addresses: list[str], *, embedded: str | None = None) -> None:
        self._lock = threading.Lock()
        self._health = {a: ExecutorHealth(a, embedded=a == embedded) for a in addresses}

    def answered(self, address: str, *, isolation: str, running: int, capacity: int) -> None:
        """It answered its health check."""
        self._update(
            address,
            answered=True,
            checked_at=utcnow(),
            isolation=isolation or None,
            running=running,
            capacity=capacity,
        )

    def unreachable(self, address: str, error: str) -> None:
        """It did not answer its health check."""
        now = utcnow()
        self._update(address, answered=False, checked_at=now, last_error=error, last_error_at=now)

    def failed(self, address: str, error: str) -> None:
        """A match it was playing came back for the platform's fault (gone, refused)."""
        self._update(address, last_error=error, last_error_at=utcnow())

    def snapshot(self) -> list[ExecutorHealth]:
        with self._lock:
            return list(self._health.values())

    def _update(self, address: str, **changes: object) -> None:
        with self._lock:
            known = self._health.get(address) or ExecutorHealth(address, embedded=False)
            self._health[address] = replace(known, **changes)  # type: ignore[arg-type]
