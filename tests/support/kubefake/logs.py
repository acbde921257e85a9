"""Container logs as the kubelet keeps them: lines with the time each was written, growing
while the container runs and closed when it ends, so ``follow`` knows when to stop."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from datetime import UTC, datetime


class LogBuffer:
    def __init__(self) -> None:
        self._changed = threading.Condition()
        self._lines: list[tuple[float, bytes]] = []
        self._partial = b""
        self.closed = False

    def write(self, data: bytes) -> None:
        with self._changed:
            data = self._partial + data
            *lines, self._partial = data.split(b"\n")
            stamp = time.time()
            self._lines.extend((stamp, line + b"\n") for line in lines)
            self._changed.notify_all()

    def close(self) -> None:
        with self._changed:
            if self._partial:
                self._lines.append((time.time(), self._partial))
                self._partial = b""
            self.closed = True
            self._changed.notify_all()

    def text(self) -> bytes:
        with self._changed:
            return b"".join(line for _stamp, line in self._lines) + self._partial

    def read(
        self,
        *,
        follow: bool,
        tail_lines: int | None = None,
        since_seconds: int | None = None,
        timestamps: bool = False,
        stop: threading.Event | None = None,
    ) -> Iterator[bytes]:
        """The lines asked for; with ``follow``, then each new line until the log closes (or
        ``stop`` is set)."""
        with self._changed:
            lines = list(self._lines)
            sent = len(lines)
        if since_seconds is not None:
            cutoff = time.time() - since_seconds
            lines = [entry for entry in lines if entry[0] >= cutoff]
        if tail_lines is not None:
            lines = lines[-tail_lines:] if tail_lines > 0 else []
        for stamp, line in lines:
            yield _stamped(stamp, line) if timestamps else line
        while follow:
            with self._changed:
                while len(self._lines) == sent and not self.closed:
                    if stop is not None and stop.is_set():
                        return
                    self._changed.wait(0.1)
                fresh = self._lines[sent:]
                sent = len(self._lines)
                done = self.closed and not fresh
            for stamp, line in fresh:
                yield _stamped(stamp, line) if timestamps else line
            if done:
                return


def _stamped(stamp: float, line: bytes) -> bytes:
    moment = datetime.fromtimestamp(stamp, UTC).strftime("%Y-%m-%dT%H:%M:%S.%f000Z")
    return moment.encode() + b" " + line
