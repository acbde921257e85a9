"""Packing a folder into the ``.tar.gz`` that the command-line client uploads."""

from __future__ import annotations

import gzip
import os
import stat
import tarfile
from collections.abc import Iterator
from pathlib import Path
from typing import BinaryIO

_SKIPPED_NAMES = frozenset({".git", "__pycache__", ".venv", "venv", "node_modules", ".DS_Store"})
_SKIPPED_SUFFIXES = (".pyc",)


def is_skipped(name: str) -> bool:
    """Whether a file or folder of this name is left out of a packed folder (caches, virtual
    environments, version control): the same for the CLI's upload and a browser's."""
    return name in _SKIPPED_NAMES or name.endswith(_SKIPPED_SUFFIXES)


def pack_folder(folder: Path, out: BinaryIO) -> int:
    """Write ``folder`` as a ``.tar.gz`` to ``out``, the way ``botarena submit FOLDER`` uploads it.

    Members are relative to the folder, in a stable (sorted, depth-first) order. ``.git``,
    ``__pycache__``, ``.venv``, ``venv``, ``node_modules``, ``.DS_Store`` and ``*.pyc`` are
    skipped, as are special files and symlinks that point outside the folder (an absolute link
    to somewhere inside is rewritten as a relative one). Returns the number of regular files.
    """
    root = folder.resolve(strict=True)
    if not root.is_dir():
        raise NotADirectoryError(f"{folder} is not a folder")
    own_file = _identity(out)
    packed = 0
    with (
        gzip.GzipFile(filename="", mode="wb", fileobj=out, mtime=0) as compressed,
        tarfile.open(fileobj=compressed, mode="w", format=tarfile.PAX_FORMAT) as tar,
    ):
        for path, name in _walk_folder(root):
            info = os.lstat(path)
            member = tarfile.TarInfo(name)
            member.mtime = int(info.st_mtime)
            member.uid = member.gid = 0
            member.uname = member.gname = ""
            if stat.S_ISDIR(info.st_mode):
                member.type = tarfile.DIRTYPE
                member.mode = 0o755
                tar.addfile(member)
            elif stat.S_ISREG(info.st_mode):
                if (info.st_dev, info.st_ino) == own_file:
                    continue
                member.mode = 0o755 if info.st_mode & 0o111 else 0o644
                member.size = info.st_size
                with path.open("rb") as content:
                    tar.addfile(member, content)
                packed += 1
            elif stat.S_ISLNK(info.st_mode):
                target = _inside_link_target(root, path)
                if target is None:
                    continue
                member.type = tarfile.SYMTYPE
                member.mode = 0o777
                member.linkname = target
                tar.addfile(member)
    return packed


def _identity(out: BinaryIO) -> tuple[int, int] | None:
    """Device and inode of the output file, so that packing never includes its own output."""
    try:
        info = os.fstat(out.fileno())
    except (OSError, ValueError):
        return None
    return info.st_dev, info.st_ino


def _walk_folder(root: Path) -> Iterator[tuple[Path, str]]:
    """Every entry under ``root`` worth packing, sorted, folders before their contents."""

    def walk(folder: Path, prefix: str) -> Iterator[tuple[Path, str]]:
        with os.scandir(folder) as scan:
            found = sorted(scan, key=lambda item: item.name)
        for item in found:
            if is_skipped(item.name):
                continue
            path = Path(item.path)
            name = f"{prefix}{item.name}"
            yield path, name
            if item.is_dir(follow_symlinks=False):
                yield from walk(path, f"{name}/")

    return walk(root, "")


def _inside_link_target(root: Path, link: Path) -> str | None:
    """The target to store for a symlink that resolves inside ``root``, or None to skip it."""
    target = os.readlink(link)
    real = Path(os.path.realpath(link))
    if not real.is_relative_to(root):
        return None
    if os.path.isabs(target):
        return os.path.relpath(real, os.path.realpath(link.parent))
    return target
