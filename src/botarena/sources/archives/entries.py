"""One raw archive entry as the zip and tar readers yield it, and the chunked reads they share."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import IO, Literal

from botarena.sources.archives.errors import ArchiveError, guarded

CHUNK = 64 * 1024

Kind = Literal["file", "dir", "symlink", "hardlink"]
Sink = Callable[[bytes], None]


@dataclass(frozen=True)
class Entry:
    """One raw archive entry, as either reader yields it."""

    raw: str
    kind: Kind
    executable: bool = False
    link: str = ""
    # For regular files: pushes the decompressed content, chunk by chunk, into a sink.
    feed: Callable[[Sink], int] | None = None


def pump(handle: IO[bytes], sink: Sink, damaged: str) -> int:
    total = 0
    while True:
        with guarded(damaged):
            chunk = handle.read(CHUNK)
        if not chunk:
            return total
        total += len(chunk)
        sink(chunk)


def feed_member(
    open_member: Callable[[], IO[bytes] | None], size: int, damaged: str, sink: Sink
) -> int:
    """Open a member, push its content into ``sink`` and return its size in bytes.

    Whatever goes wrong, a size other than the declared ``size`` included, raises
    :class:`ArchiveError` with the sentence ``damaged``.
    """
    with guarded(damaged):
        handle = open_member()
    if handle is None:
        raise ArchiveError(damaged)
    with handle:
        total = pump(handle, sink, damaged)
    if total != size:
        raise ArchiveError(damaged)
    return total
