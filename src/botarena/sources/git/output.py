"""Git's output, split into lines for the build log and kept within a bounded tail."""

from __future__ import annotations

import re
from collections import deque
from collections.abc import Callable

MAX_LOG_CHARS = 64 * 1024
"""How much of git's output a :class:`FetchError` carries: the last 64 KiB."""

_MAX_LINE_BYTES = 4096
_USERINFO_RE = re.compile(r"(\b[A-Za-z][A-Za-z0-9+.\-]*://)[^/\s@]*@")


def redact(line: str) -> str:
    """Drop ``user:password@`` from any URL in ``line``.

    Checked URLs never carry credentials, but a log is the wrong place to find out otherwise.
    """
    return _USERINFO_RE.sub(r"\1", line)


class OutputLog:
    """The tail of git's output across all commands of a fetch, at most ``MAX_LOG_CHARS``."""

    def __init__(self, on_output: Callable[[str], None] | None) -> None:
        self._on_output = on_output
        self._lines: deque[str] = deque()
        self._chars = 0
        self._dropped = False

    def add(self, line: str) -> None:
        line = redact(line)
        if self._on_output is not None:
            self._on_output(line)
        self._lines.append(line)
        self._chars += len(line) + 1
        while self._chars > MAX_LOG_CHARS and self._lines:
            self._chars -= len(self._lines.popleft()) + 1
            self._dropped = True

    def text(self) -> str:
        head = ["[earlier output dropped]"] if self._dropped else []
        return "\n".join([*head, *self._lines])


class LineSplitter:
    """Turn chunks of bytes into lines, ending a line at ``\\n`` or ``\\r`` (progress meters).

    A line longer than 4 KiB is cut, so a hostile server cannot make the log hold one
    unbounded line.
    """

    def __init__(self, emit: Callable[[str], None]) -> None:
        self._emit = emit
        self._pending = b""

    def feed(self, chunk: bytes) -> None:
        self._pending += chunk
        parts = re.split(rb"[\r\n]", self._pending)
        self._pending = parts.pop()
        for part in parts:
            self._line(part)
        while len(self._pending) > _MAX_LINE_BYTES:
            self._line(self._pending[:_MAX_LINE_BYTES])
            self._pending = self._pending[_MAX_LINE_BYTES:]

    def close(self) -> None:
        self._line(self._pending)
        self._pending = b""

    def _line(self, raw: bytes) -> None:
        text = raw.decode("utf-8", errors="replace").rstrip()
        if text:
            self._emit(text)
