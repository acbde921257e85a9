"""Reading gzip-compressed tar archives entry by entry, with headers and reads kept bounded."""

from __future__ import annotations

import gzip
import io
import os
import tarfile
from collections.abc import Iterator
from contextlib import contextmanager
from functools import partial
from pathlib import Path

from botarena.sources.archives.entries import Entry, Sink, feed_member
from botarena.sources.archives.errors import (
    NO_FILES,
    ArchiveError,
    guarded,
    show,
    unpacks_to_more_than,
)
from botarena.sources.archives.types import ArchiveLimits

# tar headers (including pax and GNU long-name records) are small; a bigger one is an attack.
_MAX_HEADER_READ = 1024 * 1024
# What a tar stream may hold beyond file contents, per entry: headers, long names, padding.
_TAR_ENTRY_ALLOWANCE = 16 * 1024


@contextmanager
def open_tar_entries(path: Path, limits: ArchiveLimits) -> Iterator[Iterator[Entry]]:
    """The entries of the ``.tar.gz`` archive at ``path``, in order; it is closed on exit."""
    budget = limits.max_unpacked_bytes + (limits.max_files + 2) * _TAR_ENTRY_ALLOWANCE
    too_big = unpacks_to_more_than(limits.max_unpacked_bytes)
    with path.open("rb") as raw, gzip.GzipFile(fileobj=raw, mode="rb") as unzipped:
        tar = _open_tar(_CappedStream(unzipped, budget, too_big))
        with tar:
            yield _tar_entries(tar)


def _open_tar(stream: _CappedStream) -> tarfile.TarFile:
    try:
        return tarfile.open(fileobj=stream, mode="r:")
    except ArchiveError:
        raise
    except tarfile.ReadError as exc:
        if str(exc) == "empty file":
            raise ArchiveError(NO_FILES) from exc
        raise ArchiveError("The file is not a valid .tar.gz archive") from exc
    except Exception as exc:
        raise ArchiveError("The file is not a valid .tar.gz archive") from exc


class _CappedStream:
    """The decompressed tar stream, refusing oversized reads and reads past a byte budget.

    tarfile reads pax and GNU long-name records in one piece and keeps scanning headers as long
    as there are any, so without this a tiny upload could make it allocate or churn without end.
    """

    def __init__(self, inner: gzip.GzipFile, budget: int, too_big: str) -> None:
        self._inner = inner
        self._budget = budget
        self._too_big = too_big
        self._position = 0

    def read(self, size: int = -1, /) -> bytes:
        if size < 0 or size > _MAX_HEADER_READ:
            raise ArchiveError("The archive has a tar header that is too large")
        data = self._inner.read(size)
        self._position += len(data)
        if self._position > self._budget:
            raise ArchiveError(self._too_big)
        return data

    def seek(self, position: int, whence: int = os.SEEK_SET, /) -> int:
        if whence != os.SEEK_SET:
            raise io.UnsupportedOperation("only absolute seeks are supported")
        if position > self._budget:
            raise ArchiveError(self._too_big)
        self._position = self._inner.seek(position)
        return self._position

    def tell(self) -> int:
        return self._position

    def write(self, data: bytes, /) -> int:
        raise io.UnsupportedOperation("the stream is read-only")

    def close(self) -> None:
        """The underlying gzip stream is closed by its owner."""


def _tar_entries(tar: tarfile.TarFile) -> Iterator[Entry]:
    while True:
        with guarded("The archive is damaged"):
            member = tar.next()
        if member is None:
            return
        raw = member.name
        shown = show(raw)
        if member.isreg():
            yield Entry(
                raw,
                "file",
                executable=bool(member.mode & 0o111),
                feed=partial(_tar_feed, tar, member),
            )
        elif member.isdir():
            yield Entry(raw, "dir")
        elif member.issym():
            yield Entry(raw, "symlink", link=member.linkname)
        elif member.islnk():
            yield Entry(raw, "hardlink", link=member.linkname)
        elif member.ischr() or member.isblk():
            raise ArchiveError(f"Archive member {shown} is a device file")
        elif member.isfifo():
            raise ArchiveError(f"Archive member {shown} is a FIFO")
        else:
            raise ArchiveError(f"Archive member {shown} has an unsupported file type")


def _tar_feed(tar: tarfile.TarFile, member: tarfile.TarInfo, sink: Sink) -> int:
    damaged = f"Archive member {show(member.name)} is damaged"
    return feed_member(partial(tar.extractfile, member), member.size, damaged, sink)
