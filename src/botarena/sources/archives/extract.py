"""Extracting a checked archive into an empty folder, never following a link while writing."""

from __future__ import annotations

import errno
import os
import shutil
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from functools import partial
from pathlib import Path
from typing import IO

from botarena.sources.archives.check import Budget, Member, Plan, open_entries, scan
from botarena.sources.archives.entries import Sink, pump
from botarena.sources.archives.errors import ArchiveError, inside_non_folder, show
from botarena.sources.archives.types import ArchiveFormat, ArchiveLimits

_NEW_FILE_FLAGS = os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | os.O_CLOEXEC

_CHANGED = "The archive changed while it was being extracted"


def extract_archive(path: Path, fmt: ArchiveFormat, dest: Path, limits: ArchiveLimits) -> None:
    """Check the archive again, then extract it into the empty folder ``dest``.

    Links are never followed while writing. Regular files get mode 0o644 (0o755 when the archive
    marks them executable), folders 0o755; symlinks are recreated only when they stay inside and
    hard links become copies. A single top-level folder holding everything is stripped. If
    anything goes wrong, ``dest`` is emptied again before the error propagates.

    Raises ArchiveError for a refused archive and ValueError if ``dest`` is not an empty folder.
    """
    plan = scan(path, fmt, limits)
    dest.mkdir(parents=True, exist_ok=True)
    if any(dest.iterdir()):
        raise ValueError(f"The extraction folder {dest} is not empty")
    try:
        _write_tree(path, fmt, dest, plan, limits)
    except BaseException:
        _empty_folder(dest)
        raise


def _write_tree(
    path: Path, fmt: ArchiveFormat, dest: Path, plan: Plan, limits: ArchiveLimits
) -> None:
    budget = Budget(limits.max_unpacked_bytes)
    made: set[tuple[str, ...]] = {()}
    count = 0
    with open_entries(path, fmt, limits) as entries:
        for entry in entries:
            if count >= len(plan.members):
                raise ArchiveError(_CHANGED)
            member = plan.members[count]
            count += 1
            if member.raw != entry.raw or member.kind != entry.kind:
                raise ArchiveError(_CHANGED)
            if not member.parts:
                continue
            if member.kind == "dir":
                with _fits(member):
                    _make_folders(dest, member.parts, made)
            elif member.kind == "file":
                if entry.feed is None:
                    raise ArchiveError(_CHANGED)
                with _fits(member):
                    _make_folders(dest, member.parts[:-1], made)
                    _write_file(dest, member, entry.feed, budget)
    if count != len(plan.members):
        raise ArchiveError(_CHANGED)

    for member in plan.members:
        if member.kind == "hardlink":
            budget.count(member.size)
            with _fits(member):
                _make_folders(dest, member.parts[:-1], made)
                source_fd = os.open(
                    dest.joinpath(*member.source), os.O_RDONLY | os.O_NOFOLLOW | os.O_CLOEXEC
                )
                with open(source_fd, "rb") as source:
                    _write_file(dest, member, partial(_copy_feed, source), Budget(member.size))
    for member in plan.members:
        if member.kind == "symlink":
            with _fits(member):
                _make_folders(dest, member.parts[:-1], made)
                os.symlink(member.link.replace("\\", "/"), dest.joinpath(*member.parts))


@contextmanager
def _fits(member: Member) -> Iterator[None]:
    """Refuse a member whose path is too long for the system once under this folder.

    The check allows paths of up to 4096 bytes inside the archive, but the folder they are
    written under takes its share of the system's limit too.
    """
    try:
        yield
    except OSError as exc:
        if exc.errno != errno.ENAMETOOLONG:
            raise
        shown = show(member.raw)
        raise ArchiveError(f"Archive member {shown} has a path too long to extract") from exc


def _copy_feed(source: IO[bytes], sink: Sink) -> int:
    return pump(source, sink, _CHANGED)


def _write_file(dest: Path, member: Member, feed: Callable[[Sink], int], budget: Budget) -> None:
    fd = os.open(dest.joinpath(*member.parts), _NEW_FILE_FLAGS, 0o600)
    with open(fd, "wb") as out:

        def sink(chunk: bytes) -> None:
            budget.add(chunk)
            out.write(chunk)

        feed(sink)
        out.flush()
        os.fchmod(out.fileno(), 0o755 if member.executable else 0o644)


def _make_folders(dest: Path, parts: tuple[str, ...], made: set[tuple[str, ...]]) -> None:
    for depth in range(1, len(parts) + 1):
        key = parts[:depth]
        if key in made:
            continue
        folder = dest.joinpath(*key)
        with suppress(FileExistsError):
            os.mkdir(folder, 0o700)
        try:
            fd = os.open(folder, os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW | os.O_CLOEXEC)
        except OSError as exc:
            if exc.errno not in (errno.ELOOP, errno.ENOTDIR):
                raise
            raise ArchiveError(inside_non_folder(parts, key)) from exc
        try:
            os.fchmod(fd, 0o755)
        finally:
            os.close(fd)
        made.add(key)


def _empty_folder(folder: Path) -> None:
    for child in folder.iterdir():
        if child.is_dir() and not child.is_symlink():
            shutil.rmtree(child)
        else:
            child.unlink()
