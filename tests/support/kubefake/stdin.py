"""A container's standard input as the kubelet holds it: what attach sessions write, read by
whatever runs the container, closed for good when ``stdinOnce`` says so.

With ``stdin: true`` a container's stdin stays open for attach sessions; with ``stdinOnce``
too, it closes (the process reads end of file) when the first attach session ends, and no
later session can give it more (what the container runtime does with ``StdinOnce``).
"""

from __future__ import annotations

import threading
from collections.abc import Iterator


class StdinPipe:
    def __init__(self, *, once: bool) -> None:
        self.once = once
        self._changed = threading.Condition()
        self._chunks: list[bytes] = []
        self.closed = False
        self.sessions = 0

    def open_session(self) -> bool:
        """A new attach session; False when stdin is already closed for good."""
        with self._changed:
            if self.closed:
                return False
            self.sessions += 1
            return True

    def write(self, data: bytes) -> None:
        with self._changed:
            if not self.closed and data:
                self._chunks.append(data)
                self._changed.notify_all()

    def end_session(self) -> None:
        """An attach session ended: with ``stdinOnce``, stdin closes."""
        if self.once:
            self.close()

    def close(self) -> None:
        with self._changed:
            self.closed = True
            self._changed.notify_all()

    def read(self, stop: threading.Event | None = None) -> Iterator[bytes]:
        """Each chunk written, until stdin closes (or ``stop`` is set)."""
        sent = 0
        while True:
            with self._changed:
                while len(self._chunks) == sent and not self.closed:
                    if stop is not None and stop.is_set():
                        return
                    self._changed.wait(0.1)
                fresh = self._chunks[sent:]
                sent = len(self._chunks)
                done = self.closed and not fresh
            yield from fresh
            if done:
                return

    def read_all(self, stop: threading.Event | None = None) -> bytes:
        return b"".join(self.read(stop))
