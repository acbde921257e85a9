"""Checking a whole archive before anything is kept or extracted: format, members, links, sizes.

:func:`check_archive` walks every member: names must be plain relative paths, links must stay
inside, special files are refused, and every file is really decompressed (sizes declared in
headers are never trusted) while counting bytes against the limits. :func:`scan` returns the
resulting plan, which extraction follows.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass, replace
from pathlib import Path

from botarena.sources.archives.entries import Entry, Kind
from botarena.sources.archives.errors import (
    NO_FILES,
    ArchiveError,
    ArchiveTooLargeError,
    inside_non_folder,
    larger_than,
    show,
    unpacks_to_more_than,
)
from botarena.sources.archives.paths import (
    check_symlink,
    components,
    has_bad_encoding,
    has_control,
    is_absolute,
    name_parts,
)
from botarena.sources.archives.tarfiles import open_tar_entries
from botarena.sources.archives.types import ArchiveFormat, ArchiveLimits
from botarena.sources.archives.zipfiles import open_zip_entries

_ZIP_MAGICS = (b"PK\x03\x04", b"PK\x05\x06")
_GZIP_MAGIC = b"\x1f\x8b\x08"


def check_archive(path: Path, fmt: ArchiveFormat, limits: ArchiveLimits) -> tuple[int, int]:
    """Check an archive completely; return ``(entries, unpacked bytes)`` or raise ArchiveError."""
    plan = scan(path, fmt, limits)
    return plan.entries, plan.unpacked


def detect_format(path: Path, filename: str | None) -> ArchiveFormat:
    """Tell a zip from a gzip'd tar by its first bytes; the file name must not contradict it.

    A name without an extension is accepted; otherwise it must end in ``.zip`` for a zip and
    ``.tar.gz`` or ``.tgz`` for a tar.
    """
    with path.open("rb") as handle:
        head = handle.read(4)
    fmt: ArchiveFormat
    if head.startswith(_ZIP_MAGICS):
        fmt = "zip"
    elif head.startswith(_GZIP_MAGIC):
        fmt = "tar.gz"
    else:
        raise ArchiveError("The file is neither a zip archive nor a gzip-compressed tar archive")
    if filename:
        base = filename.replace("\\", "/").rsplit("/", 1)[-1]
        lowered = base.lower()
        claimed: ArchiveFormat | None = None
        if lowered.endswith(".zip"):
            claimed = "zip"
        elif lowered.endswith((".tar.gz", ".tgz")):
            claimed = "tar.gz"
        elif "." in lowered.lstrip("."):
            raise ArchiveError(f"The file name {show(base)} should end in .zip, .tar.gz or .tgz")
        if claimed is not None and claimed != fmt:
            raise ArchiveError(
                f"The file name {show(base)} does not match its content, which is a {fmt} archive"
            )
    return fmt


def open_entries(
    path: Path, fmt: ArchiveFormat, limits: ArchiveLimits
) -> AbstractContextManager[Iterator[Entry]]:
    """The entries of either kind of archive, in order; the archive is closed on exit."""
    if fmt == "zip":
        return open_zip_entries(path)
    return open_tar_entries(path, limits)


class Budget:
    """Counts unpacked bytes and refuses as soon as they pass the limit."""

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self.total = 0

    def add(self, chunk: bytes) -> None:
        self.count(len(chunk))

    def count(self, size: int) -> None:
        self.total += size
        if self.total > self.limit:
            raise ArchiveError(unpacks_to_more_than(self.limit))


@dataclass(frozen=True)
class Member:
    """A checked entry: ``parts`` is its path under the extraction root (empty: the root)."""

    raw: str
    kind: Kind
    parts: tuple[str, ...]
    executable: bool
    link: str
    size: int
    # Hard links only: the path of the file they copy, under the extraction root.
    source: tuple[str, ...] = ()


@dataclass(frozen=True)
class Plan:
    """What :func:`scan` found: every member checked, and the counts to report."""

    members: tuple[Member, ...]  # one per raw entry, in archive order
    entries: int
    unpacked: int


def scan(path: Path, fmt: ArchiveFormat, limits: ArchiveLimits) -> Plan:
    """Read and check the whole archive against ``limits``; raise ArchiveError on any refusal."""
    if path.stat().st_size > limits.max_bytes:
        raise ArchiveTooLargeError(larger_than(limits.max_bytes))
    budget = Budget(limits.max_unpacked_bytes)
    found: list[Member] = []
    seen: set[tuple[str, ...]] = set()
    with open_entries(path, fmt, limits) as entries:
        for entry in entries:
            if len(found) >= limits.max_files:
                raise ArchiveError(f"The archive has more than {limits.max_files} entries")
            parts = name_parts(entry.raw)
            if not parts and entry.kind != "dir":
                raise ArchiveError("The archive has a member with an empty name")
            if parts in seen:
                raise ArchiveError(f"Archive member {show('/'.join(parts))} appears more than once")
            if parts:
                seen.add(parts)
            size = entry.feed(budget.add) if entry.feed is not None else 0
            found.append(Member(entry.raw, entry.kind, parts, entry.executable, entry.link, size))
    members = _settle(found)
    for member in members:
        if member.kind == "hardlink":
            budget.count(member.size)
    return Plan(members=members, entries=len(found), unpacked=budget.total)


def _settle(found: list[Member]) -> tuple[Member, ...]:
    """Whole-archive checks: members under non-folders, links; strips a single top folder."""
    if not any(member.kind == "file" for member in found):
        raise ArchiveError(NO_FILES)
    not_folders = {member.parts for member in found if member.kind != "dir"}
    for member in found:
        for depth in range(1, len(member.parts)):
            if member.parts[:depth] in not_folders:
                raise ArchiveError(inside_non_folder(member.parts, member.parts[:depth]))

    prefix = _top_folder(found)
    members = [replace(member, parts=member.parts[len(prefix) :]) for member in found]

    files = {member.parts: member for member in members if member.kind == "file"}
    for index, member in enumerate(members):
        if member.kind != "hardlink":
            continue
        shown = show("/".join(found[index].parts))
        target = member.link
        if has_control(target) or has_bad_encoding(target) or is_absolute(target):
            raise ArchiveError(f"Archive hard link {shown} points outside the archive")
        target_parts = tuple(components(target))
        if ".." in target_parts:
            raise ArchiveError(f"Archive hard link {shown} points outside the archive")
        source = (
            files.get(target_parts[len(prefix) :])
            if target_parts[: len(prefix)] == prefix
            else None
        )
        if source is None:
            raise ArchiveError(
                f"Archive hard link {shown} points to {show(target)}, "
                "which is not a file in the archive"
            )
        members[index] = replace(
            member, source=source.parts, size=source.size, executable=source.executable
        )

    links = {member.parts: member.link for member in members if member.kind == "symlink"}
    for member in members:
        if member.kind == "symlink":
            check_symlink(member.parts, member.link, links)
    return tuple(members)


def _top_folder(found: Sequence[Member]) -> tuple[str, ...]:
    """The single top-level folder holding every member, as a one-part prefix, or ``()``."""
    named = [member for member in found if member.parts]
    tops = {member.parts[0] for member in named}
    if len(tops) != 1:
        return ()
    (top,) = tops
    if any(member.parts == (top,) and member.kind != "dir" for member in named):
        return ()
    if not any(len(member.parts) > 1 for member in named):
        return ()
    return (top,)
