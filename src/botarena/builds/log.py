"""A build's log: written to a file as it happens, read back while the build runs.

The stored copy keeps the last ``STORED_LOG_BYTES`` and says when it was cut.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from pathlib import Path

from botarena.clock import utcnow

STORED_LOG_BYTES = 1024 * 1024
CUT_MARKER = "[… the beginning of this log was cut: only the last 1 MiB is kept …]\n"

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


def read_tail(path: Path, limit: int = STORED_LOG_BYTES) -> str | None:
    """The last ``limit`` bytes of a log file (with the cut marker), or None without a file."""
    try:
        with path.open("rb") as handle:
            handle.seek(0, 2)
            size = handle.tell()
            handle.seek(max(0, size - limit))
            data = handle.read()
    except FileNotFoundError:
        return None
    text = data.decode("utf-8", errors="replace")
    if size > limit:
        # Start at a line boundary so the first line is whole.
        newline = text.find("\n")
        text = CUT_MARKER + (text[newline + 1 :] if newline >= 0 else text)
    return text
