"""A build's log: written to a file as it happens, read back while the build runs.

The stored copy keeps the last MiB and says when it was cut (see botarena.storage).
"""

from __future__ import annotations

import os
import threading
from collections.abc import Callable
from pathlib import Path

from botarena.clock import utcnow


def _unheard(_size: int) -> None:
    """The default: nobody is told that the log grew."""


def _unplaced(_job: str, _pod: str | None) -> None:
    """The default: nobody is told where the build runs."""


class BuildLog:
    """Appends timestamped lines to ``path``; ``grew`` hears the file's size after each one
    (the live streams read the new lines from the file). ``placed`` hears where a backend
    runs the build, when it knows (the Kubernetes backend: its Job and pod)."""

    def __init__(
        self,
        path: Path,
        grew: Callable[[int], None] = _unheard,
        placed: Callable[[str, str | None], None] = _unplaced,
    ) -> None:
        self.path = path
        self.placed = placed
        path.parent.mkdir(parents=True, exist_ok=True)
        self._lock = threading.Lock()
        self._grew = grew
        self._handle = path.open("a", encoding="utf-8", errors="replace")

    def write(self, line: str) -> None:
        text = line.rstrip("\n")
        with self._lock:
            self._handle.write(text + "\n")
            self._handle.flush()
            size = os.fstat(self._handle.fileno()).st_size
        self._grew(size)

    def step(self, sentence: str) -> None:
        """A line of the platform's own, marking a stage of the build."""
        self.write(f"==> {utcnow().strftime('%H:%M:%S')} {sentence}")

    def close(self) -> None:
        with self._lock:
            self._handle.close()
