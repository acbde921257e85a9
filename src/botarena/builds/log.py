"""A build's log: written to a file as it happens, read back while the build runs.

The stored copy keeps the last MiB and says when it was cut (see botarena.storage).
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from pathlib import Path

from botarena.clock import utcnow

LineListener = Callable[[str], None]


class BuildLog:
    """Appends timestamped lines to ``path``; listeners see each line as it is written."""

    def __init__(self, path: Path) -> None:
        self.path = path
        path.parent.mkdir(parents=True, exist_ok=True)
        self._lock = threading.Lock()
        self._listeners: list[LineListener] = []
        self._handle = path.open("a", encoding="utf-8", errors="replace")

    def subscribe(self, listener: LineListener) -> None:
        with self._lock:
            self._listeners.append(listener)

    def write(self, line: str) -> None:
        text = line.rstrip("\n")
        with self._lock:
            self._handle.write(text + "\n")
            self._handle.flush()
            listeners = list(self._listeners)
        for listener in listeners:
            listener(text)

    def step(self, sentence: str) -> None:
        """A line of the platform's own, marking a stage of the build."""
        self.write(f"==> {utcnow().strftime('%H:%M:%S')} {sentence}")

    def close(self) -> None:
        with self._lock:
            self._handle.close()
