"""One thread that cancels the calls whose executor fell silent for too long.

A match's events arrive seconds apart at most (heartbeats); a call that waits longer is
cancelled, which ends the wait with an error. A timer thread per awaited event did this
before, at the cost of starting a thread for every event of every match; this one thread
serves every call of a client, armed before each wait and disarmed after it.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable


class SilenceWatch:
    """Deadlines per awaited call; the thread starts with the first one and ends at close."""

    def __init__(self, name: str = "executor-silence") -> None:
        self._name = name
        self._changed = threading.Condition()
        self._deadlines: dict[object, tuple[float, Callable[[], object]]] = {}
        self._wakes_at: float | None = None  # when the thread's current wait ends
        self._thread: threading.Thread | None = None
        self._closed = False

    def arm(self, key: object, seconds: float, cancel: Callable[[], object]) -> None:
        """Call ``cancel`` unless :meth:`disarm` comes within ``seconds``."""
        deadline = time.monotonic() + seconds
        with self._changed:
            if self._closed:
                return
            self._deadlines[key] = (deadline, cancel)
            if self._thread is None:
                self._thread = threading.Thread(target=self._run, name=self._name, daemon=True)
                self._thread.start()
            elif self._wakes_at is None or deadline < self._wakes_at:
                # Only an earlier deadline needs the thread awake (they usually come later).
                self._changed.notify()

    def disarm(self, key: object) -> None:
        with self._changed:
            self._deadlines.pop(key, None)

    def close(self) -> None:
        with self._changed:
            self._closed = True
            self._deadlines.clear()
            self._changed.notify()

    def _run(self) -> None:
        while True:
            due: list[Callable[[], object]] = []
            with self._changed:
                if self._closed:
                    return
                now = time.monotonic()
                for key, (deadline, cancel) in list(self._deadlines.items()):
                    if deadline <= now:
                        del self._deadlines[key]
                        due.append(cancel)
                if not due:
                    nearest = min((d for d, _ in self._deadlines.values()), default=None)
                    self._wakes_at = nearest
                    self._changed.wait(None if nearest is None else nearest - now)
                    self._wakes_at = None
            for cancel in due:
                cancel()
