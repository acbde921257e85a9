"""What every installer of an agent's requirements offers, the error it raises, and the
collection of its output: streamed line by line to the caller, the last lines kept."""

from __future__ import annotations

import threading
from collections.abc import Callable
from pathlib import Path
from typing import IO, Protocol

OutputSink = Callable[[str], None]

# A line longer than this is cut: the output comes from untrusted build code.
MAX_LINE = 2000
_TAIL = 20


class PrepareError(Exception):
    """The folder cannot be made runnable; ``reason`` is a short code, the text a sentence.

    Installers use ``dependencies_failed`` (the requirements could not be installed: the
    last line of the output says why), ``timeout`` and ``internal`` (our fault, not theirs).
    """

    def __init__(self, reason: str, message: str) -> None:
        super().__init__(message)
        self.reason = reason


class Installer(Protocol):
    """Turns a ``requirements.txt`` into a virtual environment."""

    @property
    def layout(self) -> str:
        """Where the environment's own paths point: part of the cache key, since an
        environment built for one place does not always work in another."""
        ...

    def install(
        self,
        requirements: Path,
        target: Path,
        *,
        on_output: OutputSink | None,
        timeout: float,
    ) -> None:
        """Leave a working environment in ``target`` (an empty folder) or raise
        :class:`PrepareError`; on failure ``target`` may hold leftovers for the caller to
        remove."""
        ...


class OutputTail:
    """Forwards the lines of one or more byte streams to a sink and keeps the last ones."""

    def __init__(self, on_output: OutputSink | None) -> None:
        self._on_output = on_output
        self._lines: list[str] = []
        self._lock = threading.Lock()

    def pump(self, stream: IO[bytes]) -> None:
        """Read ``stream`` to its end (run it in a thread of its own)."""
        pending = b""
        while chunk := stream.read(65536):
            pending += chunk
            *lines, pending = pending.split(b"\n")
            for line in lines:
                self.add(line.decode("utf-8", errors="replace"))
        if pending:
            self.add(pending.decode("utf-8", errors="replace"))

    def start(self, stream: IO[bytes]) -> threading.Thread:
        reader = threading.Thread(target=self.pump, args=(stream,), daemon=True)
        reader.start()
        return reader

    def add(self, line: str) -> None:
        line = line.rstrip("\r")[:MAX_LINE]
        with self._lock:
            self._lines.append(line)
            del self._lines[:-_TAIL]
            say(self._on_output, line)

    def last_line(self) -> str:
        with self._lock:
            return next((line for line in reversed(self._lines) if line.strip()), "")


def say(on_output: OutputSink | None, line: str) -> None:
    if on_output is not None:
        on_output(line)
