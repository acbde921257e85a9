"""The archive formats understood, the limits every archive must keep to, and a stored upload."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Literal

ArchiveFormat = Literal["zip", "tar.gz"]


@dataclass(frozen=True)
class ArchiveLimits:
    """Bounds on an archive: compressed size, number of entries, total unpacked size (bytes)."""

    max_bytes: int
    max_files: int
    max_unpacked_bytes: int


@dataclass(frozen=True)
class StoredArchive:
    """An accepted archive, stored under its content address."""

    sha256: str
    path: Path
    format: ArchiveFormat
    size: int
    files: int
    unpacked_bytes: int
