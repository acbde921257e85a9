"""A stop signal for a match that is playing: set from any thread, heard by the referee at
once (it is also a file descriptor its selector waits on, next to the agents' pipes)."""

from __future__ import annotations

import contextlib
import os
import threading

from botarena.closing import Closing


class MatchStoppedError(Exception):
    """The match was stopped from outside (cancelled, or its caller went away)."""


class StopSignal(Closing):
    """Set once by whoever stops the match; readable on :meth:`fileno` once set."""

    def __init__(self) -> None:
        self._event = threading.Event()
        self._lock = threading.Lock()
        self._read, self._write = os.pipe()
        os.set_blocking(self._write, False)
        self._closed = False

    def set(self) -> None:
        """Stop the match; idempotent, and harmless once the match has ended."""
        with self._lock:
            if self._event.is_set() or self._closed:
                self._event.set()
                return
            self._event.set()
            with contextlib.suppress(BlockingIOError):  # one byte, in an empty pipe
                os.write(self._write, b"x")

    def is_set(self) -> bool:
        return self._event.is_set()

    def wait(self, seconds: float) -> bool:
        """Sleep up to ``seconds``, less once the signal is set; True when it is set."""
        return self._event.wait(seconds)

    def check(self) -> None:
        """Raise MatchStoppedError once the signal is set."""
        if self._event.is_set():
            raise MatchStoppedError("the match was stopped")

    def fileno(self) -> int:
        """Readable once the signal is set (for a selector)."""
        return self._read

    def close(self) -> None:
        # Under the lock: a late set() must never write to a descriptor number reused since.
        with self._lock:
            if self._closed:
                return
            self._closed = True
            os.close(self._read)
            os.close(self._write)
