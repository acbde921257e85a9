"""Background threads of a service inside ``botarena serve``: started by name, woken when new
work arrives, and stopped together."""

from __future__ import annotations

import threading
from collections.abc import Callable

import structlog

log = structlog.get_logger(__name__)


def _nothing() -> None:
    """The default listener of new work."""


class Workers:
    """A set of daemon threads sharing one stop signal and one wake-up signal."""

    def __init__(self) -> None:
        self._stop = threading.Event()
        self._wake = threading.Event()
        self._threads: list[threading.Thread] = []
        # Called after a periodic pass that queued matches (the dispatcher's wake, in serve).
        self.on_queued: Callable[[], None] = _nothing

    def _spawn(self, name: str, target: Callable[[], None]) -> None:
        thread = threading.Thread(target=target, name=name, daemon=True)
        thread.start()
        self._threads.append(thread)

    def _spawn_every(self, name: str, seconds: float, tick: Callable[[], int]) -> None:
        """A thread that runs ``tick`` every ``seconds`` until stopped, calls
        :attr:`on_queued` after a pass that returned more than 0, and survives a failed pass
        (logged; the next one comes all the same)."""

        def run() -> None:
            while not self._stop.wait(seconds):
                try:
                    if tick():
                        self.on_queued()
                except Exception:
                    log.exception("a periodic pass failed", worker=name)

        self._spawn(name, run)

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
