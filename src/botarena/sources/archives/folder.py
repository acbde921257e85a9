"""A folder sent file by file, as a browser uploads one (each file named by its path relative
to the chosen folder's parent), packed in memory into a ``.tar.gz``.

The names are checked with the archive's own member rules (no absolute path, no ``..``, no
control characters, bounded depth and length), every file must lie inside one shared top
folder, which is dropped, and the count and unpacked size keep to the archive limits. What
comes out is then stored like any uploaded archive, which checks it in full once more.
"""

from __future__ import annotations

import gzip
import io
import tarfile
from collections.abc import Sequence
from typing import BinaryIO

from botarena.sources.archives.entries import CHUNK
from botarena.sources.archives.errors import ArchiveError, show, unpacks_to_more_than
from botarena.sources.archives.pack import is_skipped
from botarena.sources.archives.paths import name_parts
from botarena.sources.archives.types import ArchiveLimits

# The name the packed folder is stored under (its format: a gzip'd tar).
PACKED_NAME = "folder.tar.gz"


def pack_sent_folder(files: Sequence[tuple[str, BinaryIO]], limits: ArchiveLimits) -> io.BytesIO:
    """The ``(relative name, content)`` files as a ``.tar.gz`` without their top folder.

    Refuses (:class:`ArchiveError`) no files, more files than ``max_files``, an unsafe name,
    a file outside the shared top folder, the same name twice, and contents adding up to more
    than ``max_unpacked_bytes``. Caches, virtual environments and ``.git`` are left out, as
    ``botarena submit FOLDER`` leaves them out.
    """
    if not files:
        raise ArchiveError("The folder has no files")
    if len(files) > limits.max_files:
        raise ArchiveError(f"The folder has more than {limits.max_files} files")
    kept = _inside_one_folder(files)
    if not kept:
        raise ArchiveError("The folder has no files to submit (only caches or version control)")
    out = io.BytesIO()
    unpacked = 0
    with (
        gzip.GzipFile(filename="", mode="wb", fileobj=out, mtime=0) as compressed,
        tarfile.open(fileobj=compressed, mode="w", format=tarfile.PAX_FORMAT) as tar,
    ):
        for name, content in sorted(kept.items()):
            data = _read_bounded(content, limits.max_unpacked_bytes - unpacked, limits)
            unpacked += len(data)
            member = tarfile.TarInfo(name)
            member.size = len(data)
            member.mode = 0o644
            tar.addfile(member, io.BytesIO(data))
    out.seek(0)
    return out


def _inside_one_folder(files: Sequence[tuple[str, BinaryIO]]) -> dict[str, BinaryIO]:
    """The files by their names below the one top folder they all share."""
    tops: set[str] = set()
    kept: dict[str, BinaryIO] = {}
    for raw, content in files:
        parts = name_parts(raw)
        if len(parts) < 2:
            raise ArchiveError(f"The file {show(raw)} is not inside a folder: send a whole folder")
        tops.add(parts[0])
        if len(tops) > 1:
            raise ArchiveError("The files do not all come from one folder")
        if any(is_skipped(part) for part in parts[1:]):
            continue
        name = "/".join(parts[1:])
        if name in kept:
            raise ArchiveError(f"The file {show(name)} was sent twice")
        kept[name] = content
    return kept


def _read_bounded(content: BinaryIO, room: int, limits: ArchiveLimits) -> bytes:
    """The whole content, refused once it passes the ``room`` left under the limit."""
    chunks: list[bytes] = []
    size = 0
    while chunk := content.read(CHUNK):
        size += len(chunk)
        if size > room:
            raise ArchiveError(unpacks_to_more_than(limits.max_unpacked_bytes))
        chunks.append(chunk)
    return b"".join(chunks)
