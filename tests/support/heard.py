"""A subscriber of the event bus that keeps what it heard, and waits for it."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

from botarena.events import Notice


class Heard:
    """Call it with notices (a bus callback); ``wait`` until a condition on them holds."""

    def __init__(self) -> None:
        self.notices: list[Notice] = []
        self._changed = threading.Condition()

    def __call__(self, notice: Notice) -> None:
        with self._changed:
            self.notices.append(notice)
            self._changed.notify_all()

    def wait(self, until: Callable[[list[Notice]], bool], seconds: float = 15.0) -> list[Notice]:
        """The notices once ``until(notices)`` holds; fails the test after ``seconds``."""
        deadline = time.monotonic() + seconds
        with self._changed:
            while not until(self.notices):
                left = deadline - time.monotonic()
                if left <= 0:
                    raise AssertionError(f"not heard in {seconds}s: {self.notices}")
                self._changed.wait(left)
            return list(self.notices)

    def statuses(self) -> list[str]:
        return [str(n.data["status"]) for n in self.notices if "status" in n.data]
