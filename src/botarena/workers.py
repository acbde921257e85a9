"""Background threads of a service inside ``botarena serve``: started by name, woken when new
work arrives, and stopped together."""

from __future__ import annotations

import threading
from collections.abc import Callable


class Workers:
    """A set of daemon threads sharing one stop signal and one wake-up signal."""

    def __init__(self) -> None:
        self._stop = threading.Event()
        self._wake = threading.Event()
        self._threads: list[threading.Thread] = []

    def _spawn(self, name: str, target: Callable[[], None]) -> None:
        thread = threading.Thread(target=target, name=name, daemon=True)
        thread.start()
        self._threads.append(thread)

    def wake(self) -> None:
        """New work was queued: let an idle worker look now rather than at its next poll."""
        self._wake.set()

    def _idle(self, seconds: float) -> None:
        """Wait for new work, at most ``seconds``."""
        self._wake.wait(seconds)
        self._wake.clear()

    def stop(self, timeout: float = 10.0) -> None:
        """Signal every thread to stop and wait for each, at most ``timeout`` seconds."""
        self._stop.set()
        self._wake.set()
        for thread in self._threads:
            thread.join(timeout)
