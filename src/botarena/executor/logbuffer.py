"""A bounded capture of an agent's stderr: its beginning and its end, with a marker between."""

from __future__ import annotations

DEFAULT_LOG_LIMIT = 64 * 1024


class BoundedLog:
    """Keeps the first and the last half of ``limit`` bytes; what fell between is counted."""

    def __init__(self, limit: int = DEFAULT_LOG_LIMIT) -> None:
        self.limit = limit
        self._head = bytearray()
        self._tail = bytearray()
        self._dropped = 0

    def write(self, data: bytes) -> None:
        room = self.limit // 2 - len(self._head)
        if room > 0:
            self._head += data[:room]
            data = data[room:]
        if not data:
            return
        self._tail += data
        excess = len(self._tail) - (self.limit - self.limit // 2)
        if excess > 0:
            del self._tail[:excess]
            self._dropped += excess

    @property
    def truncated(self) -> bool:
        return self._dropped > 0

    def text(self) -> str:
        """The captured log; a marker line says where and how much was cut."""
        head = self._head.decode("utf-8", errors="replace")
        tail = self._tail.decode("utf-8", errors="replace")
        if not self._dropped:
            return head + tail
        return f"{head}\n[… {self._dropped} bytes of log truncated …]\n{tail}"
