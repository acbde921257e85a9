"""Renders of live blocks shared by every stream that shows the same block.

When a rating changes, every open leaderboard of its game wakes at once. A block rendered
after the notice that woke a stream shows everything that notice announced (notices are
published after their transaction commits), so the streams that wake for it take that one
render instead of each reading the database and rendering again: one render per block and
change, however many listen.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Hashable
from dataclasses import dataclass, field

# Distinct blocks kept (a game's board per sort and page, the front page's three); past this
# the oldest are dropped, so odd queries cannot grow the cache without bound.
MAX_ENTRIES = 512


@dataclass
class _Entry:
    lock: threading.Lock = field(default_factory=threading.Lock)
    started: float = -1.0
    html: str | None = None


class SharedRenders:
    """Each block's latest render, with the time its reading began."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._entries: dict[Hashable, _Entry] = {}
        self.renders = 0  # how many were really made (the rest were shared)

    def get(self, key: Hashable, since: float, make: Callable[[], str]) -> str:
        """The block of ``key`` as rendered after ``since`` (a ``time.monotonic()``),
        rendering it with ``make`` unless another stream did already."""
        with self._lock:
            entry = self._entries.pop(key, None) or _Entry()
            self._entries[key] = entry  # now the newest
            while len(self._entries) > MAX_ENTRIES:
                del self._entries[next(iter(self._entries))]
        with entry.lock:
            if entry.html is not None and entry.started >= since:
                return entry.html
            started = time.monotonic()
            html = make()
            self.renders += 1
            entry.started, entry.html = started, html
            return html
