"""Reading zip archives entry by entry, refusing encryption, unbounded compression and devices."""

from __future__ import annotations

import stat
import zipfile
from collections.abc import Iterator
from contextlib import contextmanager
from functools import partial
from pathlib import Path

from botarena.sources.archives.entries import Entry, Sink, feed_member
from botarena.sources.archives.errors import ArchiveError, guarded, show
from botarena.sources.archives.paths import MAX_LINK_TARGET_BYTES

_ZIP_ENCRYPTED_FLAG = 0x1
# bzip2 and lzma members are decompressed by the standard library without an output bound.
_ZIP_METHODS = frozenset({zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED})


@contextmanager
def open_zip_entries(path: Path) -> Iterator[Iterator[Entry]]:
    """The entries of the zip archive at ``path``, in order; the archive is closed on exit."""
    with guarded("The file is not a valid zip archive"):
        archive = zipfile.ZipFile(path)
    with archive:
        yield _zip_entries(archive)


def _special_kind(shown: str, mode: int) -> None:
    """Refuse device files, FIFOs and sockets, given the file-type bits of a mode."""
    if stat.S_ISCHR(mode) or stat.S_ISBLK(mode):
        raise ArchiveError(f"Archive member {shown} is a device file")
    if stat.S_ISFIFO(mode):
        raise ArchiveError(f"Archive member {shown} is a FIFO")
    if stat.S_ISSOCK(mode):
        raise ArchiveError(f"Archive member {shown} is a socket")


def _zip_entries(archive: zipfile.ZipFile) -> Iterator[Entry]:
    for info in archive.infolist():
        raw = info.orig_filename
        shown = show(raw)
        mode = info.external_attr >> 16
        _special_kind(shown, mode)
        kind_bits = stat.S_IFMT(mode)
        if kind_bits not in (0, stat.S_IFREG, stat.S_IFDIR, stat.S_IFLNK):
            raise ArchiveError(f"Archive member {shown} has an unsupported file type")
        if kind_bits == stat.S_IFDIR or (kind_bits != stat.S_IFLNK and raw.endswith(("/", "\\"))):
            yield Entry(raw, "dir")
            continue
        if info.flag_bits & _ZIP_ENCRYPTED_FLAG:
            raise ArchiveError(f"Archive member {shown} is encrypted")
        if info.compress_type not in _ZIP_METHODS:
            raise ArchiveError(f"Archive member {shown} uses an unsupported compression method")
        if kind_bits == stat.S_IFLNK:
            yield Entry(raw, "symlink", link=_zip_link_target(archive, info))
        else:
            yield Entry(
                raw, "file", executable=bool(mode & 0o111), feed=partial(_zip_feed, archive, info)
            )


def _zip_feed(archive: zipfile.ZipFile, info: zipfile.ZipInfo, sink: Sink) -> int:
    damaged = f"Archive member {show(info.orig_filename)} is damaged"
    return feed_member(partial(archive.open, info), info.file_size, damaged, sink)


def _zip_link_target(archive: zipfile.ZipFile, info: zipfile.ZipInfo) -> str:
    shown = show(info.orig_filename)
    target = bytearray()

    def collect(chunk: bytes) -> None:
        target.extend(chunk)
        if len(target) > MAX_LINK_TARGET_BYTES:
            raise ArchiveError(
                f"Archive symlink {shown} has a target longer than {MAX_LINK_TARGET_BYTES} bytes"
            )

    _zip_feed(archive, info, collect)
    try:
        return target.decode()
    except UnicodeDecodeError as exc:
        raise ArchiveError(f"Archive symlink {shown} has a target with invalid characters") from exc
