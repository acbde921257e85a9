"""Storing an uploaded archive under its content address, once it has been checked in full.

:func:`store_archive` spools an upload to a temporary file (never reading more than one byte
past the size limit), checks it and moves it to its content address
``<root>/<sha[:2]>/<sha>.<zip|tar.gz>``. A refused upload leaves nothing behind.
"""

from __future__ import annotations

import hashlib
import os
import tempfile
from pathlib import Path
from typing import BinaryIO

from botarena.sources.archives.check import check_archive, detect_format
from botarena.sources.archives.entries import CHUNK
from botarena.sources.archives.errors import ArchiveError, ArchiveTooLargeError, larger_than
from botarena.sources.archives.types import ArchiveLimits, StoredArchive


def store_archive(
    stream: BinaryIO, filename: str | None, limits: ArchiveLimits, root: Path
) -> StoredArchive:
    """Spool an upload, check it and store it at its content address under ``root``.

    The upload is copied in chunks to a temporary file under ``root/.incoming`` while it is
    hashed and counted (no more than ``max_bytes + 1`` bytes are ever read from ``stream``), then
    checked, then renamed atomically to ``<root>/<sha[:2]>/<sha>.<zip|tar.gz>``. If that file
    already exists the temporary file is dropped and the stored one reused. On any error the
    temporary file is removed; refusals raise :class:`ArchiveError`.
    """
    incoming = root / ".incoming"
    incoming.mkdir(parents=True, exist_ok=True)
    fd, temp_name = tempfile.mkstemp(prefix="upload-", suffix=".part", dir=incoming)
    temp = Path(temp_name)
    try:
        with open(fd, "wb") as out:
            sha, size = _spool(stream, out, limits.max_bytes)
            out.flush()
            os.fsync(out.fileno())
        if size == 0:
            raise ArchiveError("The uploaded file is empty")
        fmt = detect_format(temp, filename)
        files, unpacked = check_archive(temp, fmt, limits)
        final = root / sha[:2] / f"{sha}.{fmt}"
        final.parent.mkdir(exist_ok=True)
        if final.is_file():
            temp.unlink()
        else:
            temp.chmod(0o644)
            os.replace(temp, final)
    except BaseException:
        temp.unlink(missing_ok=True)
        raise
    return StoredArchive(
        sha256=sha, path=final, format=fmt, size=size, files=files, unpacked_bytes=unpacked
    )


def _spool(stream: BinaryIO, out: BinaryIO, max_bytes: int) -> tuple[str, int]:
    """Copy the upload to ``out``; return its SHA-256 (hex) and size in bytes."""
    digest = hashlib.sha256()
    size = 0
    while True:
        chunk = stream.read(min(CHUNK, max_bytes + 1 - size))
        if not chunk:
            return digest.hexdigest(), size
        size += len(chunk)
        if size > max_bytes:
            raise ArchiveTooLargeError(larger_than(max_bytes))
        digest.update(chunk)
        out.write(chunk)
