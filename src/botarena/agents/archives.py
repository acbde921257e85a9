"""Checking, storing, extracting and packing the code archives that participants upload.

Archives (``.zip`` or ``.tar.gz``) come from untrusted users, so nothing here trusts them:

* :func:`store_archive` spools an upload to a temporary file (never reading more than one byte
  past the size limit), checks it with :func:`check_archive` and moves it to its content
  address ``<root>/<sha[:2]>/<sha>.<zip|tar.gz>``. A refused upload leaves nothing behind.
* :func:`check_archive` walks every member: names must be plain relative paths, links must stay
  inside, special files are refused, and every file is really decompressed (sizes declared in
  headers are never trusted) while counting bytes against the limits.
* :func:`extract_archive` re-checks everything, then writes the tree without ever following a
  link, with normalised permissions, dropping a single top-level folder if there is one.
* :func:`pack_folder` builds the ``.tar.gz`` that the command-line client uploads.

Every refusal is an :class:`ArchiveError` whose message is one sentence meant for the user.
"""

from __future__ import annotations

import errno
import gzip
import hashlib
import io
import os
import re
import shutil
import stat
import tarfile
import tempfile
import unicodedata
import zipfile
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager, suppress
from dataclasses import dataclass, replace
from functools import partial
from pathlib import Path
from typing import IO, BinaryIO, Literal

__all__ = [
    "ArchiveError",
    "ArchiveFormat",
    "ArchiveLimits",
    "ArchiveTooLargeError",
    "StoredArchive",
    "check_archive",
    "detect_format",
    "extract_archive",
    "pack_folder",
    "store_archive",
]

ArchiveFormat = Literal["zip", "tar.gz"]

_CHUNK = 64 * 1024
_MAX_COMPONENT_BYTES = 255
_MAX_PATH_BYTES = 4096
_MAX_LINK_HOPS = 40
# tar headers (including pax and GNU long-name records) are small; a bigger one is an attack.
_MAX_HEADER_READ = 1024 * 1024
# What a tar stream may hold beyond file contents, per entry: headers, long names, padding.
_TAR_ENTRY_ALLOWANCE = 16 * 1024

_ZIP_MAGICS = (b"PK\x03\x04", b"PK\x05\x06")
_GZIP_MAGIC = b"\x1f\x8b\x08"
_ZIP_ENCRYPTED_FLAG = 0x1
# bzip2 and lzma members are decompressed by the standard library without an output bound.
_ZIP_METHODS = frozenset({zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED})
_DRIVE = re.compile(r"[A-Za-z]:")

_SKIPPED_NAMES = frozenset({".git", "__pycache__", ".venv", "venv", "node_modules", ".DS_Store"})
_SKIPPED_SUFFIXES = (".pyc",)

_NEW_FILE_FLAGS = os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | os.O_CLOEXEC

_NO_FILES = "The archive contains no files"
_CHANGED = "The archive changed while it was being extracted"


class ArchiveError(ValueError):
    """An archive was refused; the message is one sentence that can be shown to the user.

    For example ``Archive member ../evil escapes the archive``.
    """


class ArchiveTooLargeError(ArchiveError):
    """The compressed archive is larger than ``max_bytes`` (the API answers 413 for this one)."""


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


# --------------------------------------------------------------------------- public API


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


def check_archive(path: Path, fmt: ArchiveFormat, limits: ArchiveLimits) -> tuple[int, int]:
    """Check an archive completely; return ``(entries, unpacked bytes)`` or raise ArchiveError."""
    plan = _scan(path, fmt, limits)
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
            raise ArchiveError(f"The file name {_show(base)} should end in .zip, .tar.gz or .tgz")
        if claimed is not None and claimed != fmt:
            raise ArchiveError(
                f"The file name {_show(base)} does not match its content, which is a {fmt} archive"
            )
    return fmt


def extract_archive(path: Path, fmt: ArchiveFormat, dest: Path, limits: ArchiveLimits) -> None:
    """Check the archive again, then extract it into the empty folder ``dest``.

    Links are never followed while writing. Regular files get mode 0o644 (0o755 when the archive
    marks them executable), folders 0o755; symlinks are recreated only when they stay inside and
    hard links become copies. A single top-level folder holding everything is stripped. If
    anything goes wrong, ``dest`` is emptied again before the error propagates.

    Raises ArchiveError for a refused archive and ValueError if ``dest`` is not an empty folder.
    """
    plan = _scan(path, fmt, limits)
    dest.mkdir(parents=True, exist_ok=True)
    if any(dest.iterdir()):
        raise ValueError(f"The extraction folder {dest} is not empty")
    try:
        _write_tree(path, fmt, dest, plan, limits)
    except BaseException:
        _empty_folder(dest)
        raise


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


# --------------------------------------------------------------------------- uploads


def _spool(stream: BinaryIO, out: BinaryIO, max_bytes: int) -> tuple[str, int]:
    """Copy the upload to ``out``; return its SHA-256 (hex) and size in bytes."""
    digest = hashlib.sha256()
    size = 0
    while True:
        chunk = stream.read(min(_CHUNK, max_bytes + 1 - size))
        if not chunk:
            return digest.hexdigest(), size
        size += len(chunk)
        if size > max_bytes:
            raise ArchiveTooLargeError(f"The archive is larger than the {_human(max_bytes)} limit")
        digest.update(chunk)
        out.write(chunk)


# --------------------------------------------------------------------------- names and links


def _show(name: str) -> str:
    """A member name fit for an error sentence: control characters escaped, long names cut."""
    text = "".join(ch if ch.isprintable() else ascii(ch)[1:-1] for ch in name)
    return text if len(text) <= 100 else text[:97] + "..."


def _human(size: int) -> str:
    for unit, scale in (("GiB", 1 << 30), ("MiB", 1 << 20), ("KiB", 1 << 10)):
        if size >= scale and size % scale == 0:
            return f"{size // scale} {unit}"
    return "1 byte" if size == 1 else f"{size} bytes"


def _has_control(text: str) -> bool:
    return any(unicodedata.category(ch) == "Cc" for ch in text)


def _has_bad_encoding(text: str) -> bool:
    # Undecodable bytes in tar names come back as lone surrogates.
    return any(unicodedata.category(ch) == "Cs" for ch in text)


def _is_absolute(text: str) -> bool:
    return text.startswith(("/", "\\")) or _DRIVE.match(text) is not None


def _components(text: str) -> list[str]:
    """Split a path on forward and back slashes, dropping empty and ``.`` components."""
    return [part for part in text.replace("\\", "/").split("/") if part not in ("", ".")]


def _name_parts(raw: str) -> tuple[str, ...]:
    """Check a member name and return its path components (empty for the archive root)."""
    shown = _show(raw)
    if _has_control(raw):
        raise ArchiveError(f"Archive member {shown} has a control character in its name")
    if _has_bad_encoding(raw):
        raise ArchiveError(f"Archive member {shown} has a name that is not valid UTF-8")
    if _is_absolute(raw):
        raise ArchiveError(f"Archive member {shown} has an absolute path")
    parts = _components(raw)
    if ".." in parts:
        raise ArchiveError(f"Archive member {shown} escapes the archive")
    if any(len(part.encode()) > _MAX_COMPONENT_BYTES for part in parts):
        raise ArchiveError(
            f"Archive member {shown} has a path component longer than {_MAX_COMPONENT_BYTES} bytes"
        )
    if len("/".join(parts).encode()) > _MAX_PATH_BYTES:
        raise ArchiveError(f"Archive member {shown} has a path longer than {_MAX_PATH_BYTES} bytes")
    return tuple(parts)


def _check_symlink(parts: tuple[str, ...], target: str, links: dict[tuple[str, ...], str]) -> None:
    """Refuse a symlink whose target is unsafe or resolves outside the extraction root.

    The target is resolved the way the kernel would once the tree is on disk: relative to the
    link's folder, following the archive's other symlinks on the way, so that tricks such as
    ``self -> .`` followed by ``self/../..`` are caught.
    """
    shown = _show("/".join(parts))
    if not target:
        raise ArchiveError(f"Archive symlink {shown} has an empty target")
    if _has_control(target) or _has_bad_encoding(target):
        raise ArchiveError(f"Archive symlink {shown} has a target with invalid characters")
    if len(target.encode()) > _MAX_PATH_BYTES:
        raise ArchiveError(
            f"Archive symlink {shown} has a target longer than {_MAX_PATH_BYTES} bytes"
        )
    if _is_absolute(target):
        raise ArchiveError(f"Archive symlink {shown} points to an absolute path")
    hops = 0

    def resolve(base: tuple[str, ...], text: str) -> tuple[str, ...] | None:
        nonlocal hops
        current = list(base)
        for part in text.replace("\\", "/").split("/"):
            if part in ("", "."):
                continue
            if part == "..":
                if not current:
                    return None
                current.pop()
                continue
            current.append(part)
            followed = links.get(tuple(current))
            if followed is not None:
                hops += 1
                if hops > _MAX_LINK_HOPS:
                    raise ArchiveError(f"Archive symlink {shown} goes through too many links")
                if _is_absolute(followed):
                    return None
                found = resolve(tuple(current[:-1]), followed)
                if found is None:
                    return None
                current = list(found)
        return tuple(current)

    if resolve(parts[:-1], target) is None:
        raise ArchiveError(f"Archive symlink {shown} points outside the archive")


# --------------------------------------------------------------------------- reading archives

_Kind = Literal["file", "dir", "symlink", "hardlink"]
_Sink = Callable[[bytes], None]


@dataclass(frozen=True)
class _Entry:
    """One raw archive entry, as either reader yields it."""

    raw: str
    kind: _Kind
    executable: bool = False
    link: str = ""
    # For regular files: pushes the decompressed content, chunk by chunk, into a sink.
    feed: Callable[[_Sink], int] | None = None


@contextmanager
def _guarded(message: str) -> Iterator[None]:
    """Turn whatever a parser raises on hostile input into an ArchiveError with ``message``."""
    try:
        yield
    except ArchiveError:
        raise
    except Exception as exc:
        raise ArchiveError(message) from exc


def _pump(handle: IO[bytes], sink: _Sink, damaged: str) -> int:
    total = 0
    while True:
        with _guarded(damaged):
            chunk = handle.read(_CHUNK)
        if not chunk:
            return total
        total += len(chunk)
        sink(chunk)


def _special_kind(shown: str, mode: int) -> None:
    """Refuse device files, FIFOs and sockets, given the file-type bits of a mode."""
    if stat.S_ISCHR(mode) or stat.S_ISBLK(mode):
        raise ArchiveError(f"Archive member {shown} is a device file")
    if stat.S_ISFIFO(mode):
        raise ArchiveError(f"Archive member {shown} is a FIFO")
    if stat.S_ISSOCK(mode):
        raise ArchiveError(f"Archive member {shown} is a socket")


@contextmanager
def _open_entries(
    path: Path, fmt: ArchiveFormat, limits: ArchiveLimits
) -> Iterator[Iterator[_Entry]]:
    if fmt == "zip":
        with _guarded("The file is not a valid zip archive"):
            archive = zipfile.ZipFile(path)
        with archive:
            yield _zip_entries(archive)
        return
    budget = limits.max_unpacked_bytes + (limits.max_files + 2) * _TAR_ENTRY_ALLOWANCE
    too_big = f"The archive unpacks to more than {_human(limits.max_unpacked_bytes)}"
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
            raise ArchiveError(_NO_FILES) from exc
        raise ArchiveError("The file is not a valid .tar.gz archive") from exc
    except Exception as exc:
        raise ArchiveError("The file is not a valid .tar.gz archive") from exc


def _zip_entries(archive: zipfile.ZipFile) -> Iterator[_Entry]:
    for info in archive.infolist():
        raw = info.orig_filename
        shown = _show(raw)
        mode = info.external_attr >> 16
        _special_kind(shown, mode)
        kind_bits = stat.S_IFMT(mode)
        if kind_bits not in (0, stat.S_IFREG, stat.S_IFDIR, stat.S_IFLNK):
            raise ArchiveError(f"Archive member {shown} has an unsupported file type")
        if kind_bits == stat.S_IFDIR or (kind_bits != stat.S_IFLNK and raw.endswith(("/", "\\"))):
            yield _Entry(raw, "dir")
            continue
        if info.flag_bits & _ZIP_ENCRYPTED_FLAG:
            raise ArchiveError(f"Archive member {shown} is encrypted")
        if info.compress_type not in _ZIP_METHODS:
            raise ArchiveError(f"Archive member {shown} uses an unsupported compression method")
        if kind_bits == stat.S_IFLNK:
            yield _Entry(raw, "symlink", link=_zip_link_target(archive, info))
        else:
            yield _Entry(
                raw, "file", executable=bool(mode & 0o111), feed=partial(_zip_feed, archive, info)
            )


def _zip_feed(archive: zipfile.ZipFile, info: zipfile.ZipInfo, sink: _Sink) -> int:
    damaged = f"Archive member {_show(info.orig_filename)} is damaged"
    with _guarded(damaged):
        handle = archive.open(info)
    with handle:
        total = _pump(handle, sink, damaged)
    if total != info.file_size:
        raise ArchiveError(damaged)
    return total


def _zip_link_target(archive: zipfile.ZipFile, info: zipfile.ZipInfo) -> str:
    shown = _show(info.orig_filename)
    target = bytearray()

    def collect(chunk: bytes) -> None:
        target.extend(chunk)
        if len(target) > _MAX_PATH_BYTES:
            raise ArchiveError(
                f"Archive symlink {shown} has a target longer than {_MAX_PATH_BYTES} bytes"
            )

    _zip_feed(archive, info, collect)
    try:
        return target.decode()
    except UnicodeDecodeError as exc:
        raise ArchiveError(f"Archive symlink {shown} has a target with invalid characters") from exc


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


def _tar_entries(tar: tarfile.TarFile) -> Iterator[_Entry]:
    while True:
        with _guarded("The archive is damaged"):
            member = tar.next()
        if member is None:
            return
        raw = member.name
        shown = _show(raw)
        if member.isreg():
            yield _Entry(
                raw,
                "file",
                executable=bool(member.mode & 0o111),
                feed=partial(_tar_feed, tar, member),
            )
        elif member.isdir():
            yield _Entry(raw, "dir")
        elif member.issym():
            yield _Entry(raw, "symlink", link=member.linkname)
        elif member.islnk():
            yield _Entry(raw, "hardlink", link=member.linkname)
        elif member.ischr() or member.isblk():
            raise ArchiveError(f"Archive member {shown} is a device file")
        elif member.isfifo():
            raise ArchiveError(f"Archive member {shown} is a FIFO")
        else:
            raise ArchiveError(f"Archive member {shown} has an unsupported file type")


def _tar_feed(tar: tarfile.TarFile, member: tarfile.TarInfo, sink: _Sink) -> int:
    damaged = f"Archive member {_show(member.name)} is damaged"
    with _guarded(damaged):
        handle = tar.extractfile(member)
    if handle is None:
        raise ArchiveError(damaged)
    with handle:
        total = _pump(handle, sink, damaged)
    if total != member.size:
        raise ArchiveError(damaged)
    return total


# --------------------------------------------------------------------------- checking


class _Budget:
    """Counts unpacked bytes and refuses as soon as they pass the limit."""

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self.total = 0

    def add(self, chunk: bytes) -> None:
        self.count(len(chunk))

    def count(self, size: int) -> None:
        self.total += size
        if self.total > self.limit:
            raise ArchiveError(f"The archive unpacks to more than {_human(self.limit)}")


@dataclass(frozen=True)
class _Member:
    """A checked entry: ``parts`` is its path under the extraction root (empty: the root)."""

    raw: str
    kind: _Kind
    parts: tuple[str, ...]
    executable: bool
    link: str
    size: int
    # Hard links only: the path of the file they copy, under the extraction root.
    source: tuple[str, ...] = ()


@dataclass(frozen=True)
class _Plan:
    members: tuple[_Member, ...]  # one per raw entry, in archive order
    entries: int
    unpacked: int


def _scan(path: Path, fmt: ArchiveFormat, limits: ArchiveLimits) -> _Plan:
    if path.stat().st_size > limits.max_bytes:
        raise ArchiveTooLargeError(
            f"The archive is larger than the {_human(limits.max_bytes)} limit"
        )
    budget = _Budget(limits.max_unpacked_bytes)
    found: list[_Member] = []
    seen: set[tuple[str, ...]] = set()
    with _open_entries(path, fmt, limits) as entries:
        for entry in entries:
            if len(found) >= limits.max_files:
                raise ArchiveError(f"The archive has more than {limits.max_files} entries")
            parts = _name_parts(entry.raw)
            if not parts and entry.kind != "dir":
                raise ArchiveError("The archive has a member with an empty name")
            if parts in seen:
                raise ArchiveError(
                    f"Archive member {_show('/'.join(parts))} appears more than once"
                )
            if parts:
                seen.add(parts)
            size = entry.feed(budget.add) if entry.feed is not None else 0
            found.append(_Member(entry.raw, entry.kind, parts, entry.executable, entry.link, size))
    members = _settle(found)
    for member in members:
        if member.kind == "hardlink":
            budget.count(member.size)
    return _Plan(members=members, entries=len(found), unpacked=budget.total)


def _settle(found: list[_Member]) -> tuple[_Member, ...]:
    """Whole-archive checks: members under non-folders, links; strips a single top folder."""
    if not any(member.kind == "file" for member in found):
        raise ArchiveError(_NO_FILES)
    not_folders = {member.parts for member in found if member.kind != "dir"}
    for member in found:
        for depth in range(1, len(member.parts)):
            if member.parts[:depth] in not_folders:
                raise ArchiveError(
                    f"Archive member {_show('/'.join(member.parts))} is inside "
                    f"{_show('/'.join(member.parts[:depth]))}, which is not a folder"
                )

    prefix = _top_folder(found)
    members = [replace(member, parts=member.parts[len(prefix) :]) for member in found]

    files = {member.parts: member for member in members if member.kind == "file"}
    for index, member in enumerate(members):
        if member.kind != "hardlink":
            continue
        shown = _show("/".join(found[index].parts))
        target = member.link
        if _has_control(target) or _has_bad_encoding(target) or _is_absolute(target):
            raise ArchiveError(f"Archive hard link {shown} points outside the archive")
        target_parts = tuple(_components(target))
        if ".." in target_parts:
            raise ArchiveError(f"Archive hard link {shown} points outside the archive")
        source = (
            files.get(target_parts[len(prefix) :])
            if target_parts[: len(prefix)] == prefix
            else None
        )
        if source is None:
            raise ArchiveError(
                f"Archive hard link {shown} points to {_show(target)}, "
                "which is not a file in the archive"
            )
        members[index] = replace(
            member, source=source.parts, size=source.size, executable=source.executable
        )

    links = {member.parts: member.link for member in members if member.kind == "symlink"}
    for member in members:
        if member.kind == "symlink":
            _check_symlink(member.parts, member.link, links)
    return tuple(members)


def _top_folder(found: Sequence[_Member]) -> tuple[str, ...]:
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


# --------------------------------------------------------------------------- extracting


def _write_tree(
    path: Path, fmt: ArchiveFormat, dest: Path, plan: _Plan, limits: ArchiveLimits
) -> None:
    budget = _Budget(limits.max_unpacked_bytes)
    made: set[tuple[str, ...]] = {()}
    count = 0
    with _open_entries(path, fmt, limits) as entries:
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
                _make_folders(dest, member.parts, made)
            elif member.kind == "file":
                if entry.feed is None:
                    raise ArchiveError(_CHANGED)
                _make_folders(dest, member.parts[:-1], made)
                _write_file(dest, member, entry.feed, budget)
    if count != len(plan.members):
        raise ArchiveError(_CHANGED)

    for member in plan.members:
        if member.kind == "hardlink":
            _make_folders(dest, member.parts[:-1], made)
            budget.count(member.size)
            source_fd = os.open(
                dest.joinpath(*member.source), os.O_RDONLY | os.O_NOFOLLOW | os.O_CLOEXEC
            )
            with open(source_fd, "rb") as source:
                _write_file(dest, member, partial(_copy_feed, source), _Budget(member.size))
    for member in plan.members:
        if member.kind == "symlink":
            _make_folders(dest, member.parts[:-1], made)
            os.symlink(member.link.replace("\\", "/"), dest.joinpath(*member.parts))


def _copy_feed(source: IO[bytes], sink: _Sink) -> int:
    return _pump(source, sink, _CHANGED)


def _write_file(dest: Path, member: _Member, feed: Callable[[_Sink], int], budget: _Budget) -> None:
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
            raise ArchiveError(
                f"Archive member {_show('/'.join(parts))} is inside "
                f"{_show('/'.join(key))}, which is not a folder"
            ) from exc
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


# --------------------------------------------------------------------------- packing


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
            if item.name in _SKIPPED_NAMES or item.name.endswith(_SKIPPED_SUFFIXES):
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
