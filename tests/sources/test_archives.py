"""Uploaded code archives: storing, refusing hostile ones, extracting and packing."""

from __future__ import annotations

import gzip
import hashlib
import io
import os
import re
import stat
import tarfile
import time
import zipfile
from collections.abc import Callable
from pathlib import Path

import pytest

from botarena.sources.archives import (
    ArchiveError,
    ArchiveLimits,
    ArchiveTooLargeError,
    StoredArchive,
    check_archive,
    extract_archive,
    pack_folder,
    store_archive,
)

MIB = 1024 * 1024
LIMITS = ArchiveLimits(max_bytes=MIB, max_files=20, max_unpacked_bytes=2 * MIB)

# --------------------------------------------------------------------------- building archives

ZipMember = tuple[str | zipfile.ZipInfo, bytes]


def make_zip(*members: ZipMember, method: int = zipfile.ZIP_DEFLATED) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=method) as archive:
        for name, data in members:
            archive.writestr(name, data)
    return buffer.getvalue()


def zip_info(name: str, mode: int) -> zipfile.ZipInfo:
    info = zipfile.ZipInfo(name)
    info.external_attr = mode << 16
    info.compress_type = zipfile.ZIP_DEFLATED
    return info


def make_tar(*members: tuple[tarfile.TarInfo, bytes]) -> bytes:
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:gz", compresslevel=1) as archive:
        for info, data in members:
            archive.addfile(info, io.BytesIO(data) if data else None)
    return buffer.getvalue()


def tfile(name: str, data: bytes = b"print('hi')\n") -> tuple[tarfile.TarInfo, bytes]:
    info = tarfile.TarInfo(name)
    info.size = len(data)
    return info, data


def tentry(name: str, kind: bytes, link: str = "") -> tuple[tarfile.TarInfo, bytes]:
    info = tarfile.TarInfo(name)
    info.type = kind
    info.linkname = link
    return info, b""


def patch_zip_headers(data: bytes, central: tuple[int, bytes], local: tuple[int, bytes]) -> bytes:
    """Overwrite a field of the (single) central directory and local headers."""
    out = bytearray(data)
    for signature, (offset, value) in ((b"PK\x01\x02", central), (b"PK\x03\x04", local)):
        start = out.index(signature) + offset
        out[start : start + len(value)] = value
    return bytes(out)


def stored_files(root: Path) -> list[Path]:
    return [path for path in root.rglob("*") if not path.is_dir()]


def upload(
    root: Path, data: bytes, filename: str | None, limits: ArchiveLimits = LIMITS
) -> StoredArchive:
    return store_archive(io.BytesIO(data), filename, limits, root)


# --------------------------------------------------------------------------- archives refused

Build = Callable[[], bytes]
SMALL = ArchiveLimits(max_bytes=MIB, max_files=3, max_unpacked_bytes=2 * MIB)
LONG_SHOWN = "a" * 97 + "..."
ZEROS = bytes(MIB)


def _zip_symlink(target: str) -> bytes:
    return make_zip(("main.py", b""), (zip_info("link", stat.S_IFLNK | 0o777), target.encode()))


def _encrypted_zip() -> bytes:
    data = make_zip(("secret.py", b"x = 1\n"))
    return patch_zip_headers(data, central=(8, b"\x01\x00"), local=(6, b"\x01\x00"))


def _zip_with_nul() -> bytes:
    return make_zip(("evilXname.py", b"")).replace(b"evilXname.py", b"evil\x00name.py")


def _zip_lying_small() -> bytes:
    data = make_zip(("bomb.bin", bytes(8 * MIB)))
    return patch_zip_headers(data, central=(24, (10).to_bytes(4, "little")), local=(22, b""))


def _zip_lying_big() -> bytes:
    data = make_zip(("small.bin", bytes(100)))
    return patch_zip_headers(data, central=(24, (1 << 30).to_bytes(4, "little")), local=(22, b""))


REFUSED = [
    pytest.param(
        lambda: make_zip(("../evil", b"x")),
        "a.zip",
        "Archive member ../evil escapes the archive",
        id="zip-dotdot",
    ),
    pytest.param(
        lambda: make_zip(("ok.py", b""), ("..\\evil", b"x")),
        None,
        "Archive member ..\\evil escapes the archive",
        id="zip-backslash-dotdot",
    ),
    pytest.param(
        lambda: make_tar(tfile("a/../../evil")),
        "a.tar.gz",
        "Archive member a/../../evil escapes the archive",
        id="tar-dotdot",
    ),
    pytest.param(
        lambda: make_zip(("/etc/passwd", b"x")),
        "a.zip",
        "Archive member /etc/passwd has an absolute path",
        id="zip-absolute",
    ),
    pytest.param(
        lambda: make_zip(("C:\\x.py", b"x")),
        "a.zip",
        "Archive member C:\\x.py has an absolute path",
        id="zip-drive",
    ),
    pytest.param(
        lambda: make_zip(("\\\\server\\share.py", b"x")),
        "a.zip",
        "Archive member \\\\server\\share.py has an absolute path",
        id="zip-unc",
    ),
    pytest.param(
        lambda: make_tar(tfile("/abs.py")),
        "a.tgz",
        "Archive member /abs.py has an absolute path",
        id="tar-absolute",
    ),
    pytest.param(
        lambda: make_tar(tfile("main.py"), tentry("link", tarfile.SYMTYPE, "/etc/passwd")),
        "a.tar.gz",
        "Archive symlink link points to an absolute path",
        id="symlink-absolute",
    ),
    pytest.param(
        lambda: make_tar(tfile("main.py"), tentry("sub/link", tarfile.SYMTYPE, "../../etc")),
        "a.tar.gz",
        "Archive symlink sub/link points outside the archive",
        id="symlink-relative",
    ),
    pytest.param(
        lambda: make_tar(
            tfile("main.py"),
            tentry("d/self", tarfile.SYMTYPE, "."),
            tentry("d/esc", tarfile.SYMTYPE, "self/../.."),
        ),
        "a.tar.gz",
        "Archive symlink d/esc points outside the archive",
        id="symlink-via-symlink",
    ),
    pytest.param(
        lambda: make_tar(tfile("proj/main.py"), tentry("proj/up", tarfile.SYMTYPE, "..")),
        "a.tar.gz",
        "Archive symlink up points outside the archive",
        id="symlink-stripped-root",
    ),
    pytest.param(
        lambda: _zip_symlink("../outside"),
        "a.zip",
        "Archive symlink link points outside the archive",
        id="zip-symlink",
    ),
    pytest.param(
        lambda: make_tar(tfile("main.py"), tentry("copy", tarfile.LNKTYPE, "missing.py")),
        "a.tar.gz",
        "Archive hard link copy points to missing.py, which is not a file in the archive",
        id="hardlink-missing",
    ),
    pytest.param(
        lambda: make_tar(tfile("main.py"), tentry("copy", tarfile.LNKTYPE, "../etc/passwd")),
        "a.tar.gz",
        "Archive hard link copy points outside the archive",
        id="hardlink-outside",
    ),
    pytest.param(
        lambda: make_tar(tfile("main.py"), tentry("copy", tarfile.LNKTYPE, "/etc/passwd")),
        "a.tar.gz",
        "Archive hard link copy points outside the archive",
        id="hardlink-absolute",
    ),
    pytest.param(
        lambda: make_tar(tfile("main.py"), tentry("null", tarfile.CHRTYPE)),
        "a.tar.gz",
        "Archive member null is a device file",
        id="tar-device",
    ),
    pytest.param(
        lambda: make_tar(tfile("main.py"), tentry("pipe", tarfile.FIFOTYPE)),
        "a.tar.gz",
        "Archive member pipe is a FIFO",
        id="tar-fifo",
    ),
    pytest.param(
        lambda: make_zip(("main.py", b""), (zip_info("disk", stat.S_IFBLK | 0o600), b"")),
        "a.zip",
        "Archive member disk is a device file",
        id="zip-device",
    ),
    pytest.param(
        lambda: make_zip(*[(f"f{n}.py", b"") for n in range(4)]),
        "a.zip",
        "The archive has more than 3 entries",
        id="too-many-files",
    ),
    pytest.param(
        lambda: make_tar(
            tfile("a/x.py"),
            tentry("a", tarfile.DIRTYPE),
            tentry("b", tarfile.DIRTYPE),
            tfile("b/y.py"),
        ),
        "a.tar.gz",
        "The archive has more than 3 entries",
        id="folders-count",
    ),
    pytest.param(
        lambda: make_zip(*[(f"z{n}.bin", ZEROS) for n in range(3)]),
        "a.zip",
        "The archive unpacks to more than 2 MiB",
        id="zip-unpacked-total",
    ),
    pytest.param(
        lambda: make_tar(tfile("main.py"), tfile("big.bin", bytes(3 * MIB))),
        "a.tar.gz",
        "The archive unpacks to more than 2 MiB",
        id="tar-unpacked",
    ),
    pytest.param(
        lambda: make_tar(
            tfile("big.bin", ZEROS),
            tentry("c1", tarfile.LNKTYPE, "big.bin"),
            tentry("c2", tarfile.LNKTYPE, "big.bin"),
        ),
        "a.tar.gz",
        "The archive unpacks to more than 2 MiB",
        id="hardlink-copies",
    ),
    pytest.param(
        _zip_lying_small,
        "a.zip",
        "Archive member bomb.bin is damaged",
        id="zip-header-too-small",
    ),
    pytest.param(
        _zip_lying_big,
        "a.zip",
        "Archive member small.bin is damaged",
        id="zip-header-too-big",
    ),
    pytest.param(
        lambda: b"just some text\n",
        None,
        "The file is neither a zip archive nor a gzip-compressed tar archive",
        id="not-archive",
    ),
    pytest.param(
        lambda: make_zip(("main.py", b"")),
        "agent.tar.gz",
        "The file name agent.tar.gz does not match its content, which is a zip archive",
        id="zip-named-tar",
    ),
    pytest.param(
        lambda: make_tar(tfile("main.py")),
        "C:\\fakepath\\agent.ZIP",
        "The file name agent.ZIP does not match its content, which is a tar.gz archive",
        id="tar-named-zip",
    ),
    pytest.param(
        lambda: make_zip(("main.py", b"")),
        "agent.rar",
        "The file name agent.rar should end in .zip, .tar.gz or .tgz",
        id="odd-extension",
    ),
    pytest.param(
        lambda: gzip.compress(b"x" * 2000),
        "a.tar.gz",
        "The file is not a valid .tar.gz archive",
        id="gzip-not-tar",
    ),
    pytest.param(
        lambda: b"PK\x03\x04" + bytes(200),
        "a.zip",
        "The file is not a valid zip archive",
        id="bad-zip",
    ),
    pytest.param(
        _encrypted_zip,
        "a.zip",
        "Archive member secret.py is encrypted",
        id="encrypted",
    ),
    pytest.param(
        lambda: make_zip(("main.py", b"x"), method=zipfile.ZIP_BZIP2),
        "a.zip",
        "Archive member main.py uses an unsupported compression method",
        id="bzip2",
    ),
    pytest.param(lambda: make_zip(), "a.zip", "The archive contains no files", id="empty-zip"),
    pytest.param(lambda: make_tar(), "a.tar.gz", "The archive contains no files", id="empty-tar"),
    pytest.param(
        lambda: gzip.compress(b""),
        "a.tar.gz",
        "The archive contains no files",
        id="empty-gzip",
    ),
    pytest.param(
        lambda: make_zip(("a/", b""), ("a/b/", b"")),
        "a.zip",
        "The archive contains no files",
        id="only-folders",
    ),
    pytest.param(lambda: b"", "a.zip", "The uploaded file is empty", id="empty-upload"),
    pytest.param(
        lambda: make_tar(tfile("a.py"), tfile("b.py"), tfile("a.py")),
        "a.tar.gz",
        "Archive member a.py appears more than once",
        id="duplicate",
    ),
    pytest.param(
        lambda: make_tar(tfile("./a.py"), tfile("a.py")),
        "a.tar.gz",
        "Archive member a.py appears more than once",
        id="duplicate-dot",
    ),
    pytest.param(
        lambda: make_zip(("\x1b[31mred.py", b"")),
        "a.zip",
        "Archive member \\x1b[31mred.py has a control character in its name",
        id="control",
    ),
    pytest.param(
        _zip_with_nul,
        "a.zip",
        "Archive member evil\\x00name.py has a control character in its name",
        id="nul",
    ),
    pytest.param(
        lambda: make_tar(tfile("bad\nname.py")),
        "a.tar.gz",
        "Archive member bad\\nname.py has a control character in its name",
        id="tar-newline",
    ),
    pytest.param(
        lambda: make_zip(("a" * 256, b"")),
        "a.zip",
        f"Archive member {LONG_SHOWN} has a path component longer than 255 bytes",
        id="long-component",
    ),
    pytest.param(
        lambda: make_zip(("/".join(["a" * 200] * 21), b"")),
        "a.zip",
        f"Archive member {LONG_SHOWN} has a path longer than 4096 bytes",
        id="long-path",
    ),
    pytest.param(
        lambda: make_tar(tfile("a"), tfile("a/b")),
        "a.tar.gz",
        "Archive member a/b is inside a, which is not a folder",
        id="under-file",
    ),
    pytest.param(
        lambda: make_tar(
            tentry("sub", tarfile.DIRTYPE), tentry("l", tarfile.SYMTYPE, "sub"), tfile("l/x.py")
        ),
        "a.tar.gz",
        "Archive member l/x.py is inside l, which is not a folder",
        id="under-symlink",
    ),
]


@pytest.mark.parametrize(("build", "filename", "message"), REFUSED)
def test_refused_archives_leave_nothing_behind(
    tmp_path: Path, build: Build, filename: str | None, message: str
) -> None:
    root = tmp_path / "store"
    with pytest.raises(ArchiveError, match=f"^{re.escape(message)}$"):
        upload(root, build(), filename, SMALL)
    assert stored_files(root) == []


class CountingStream(io.BytesIO):
    def __init__(self, data: bytes) -> None:
        super().__init__(data)
        self.served = 0

    def read(self, size: int | None = -1, /) -> bytes:
        chunk = super().read(size)
        self.served += len(chunk)
        return chunk


def test_oversized_upload_stops_reading_after_the_limit(tmp_path: Path) -> None:
    limits = ArchiveLimits(max_bytes=100_000, max_files=10, max_unpacked_bytes=MIB)
    stream = CountingStream(os.urandom(300_000))
    with pytest.raises(ArchiveTooLargeError, match=r"^The archive is larger than the 100000 bytes"):
        store_archive(stream, "a.zip", limits, tmp_path)
    assert stream.served == limits.max_bytes + 1
    assert stored_files(tmp_path) == []


@pytest.mark.parametrize("fmt", ["zip", "tar.gz"])
def test_bombs_are_refused_quickly(tmp_path: Path, fmt: str) -> None:
    zeros = bytes(48 * MIB)
    data = make_zip(("bomb.bin", zeros)) if fmt == "zip" else make_tar(tfile("bomb.bin", zeros))
    assert len(data) < MIB
    started = time.perf_counter()
    with pytest.raises(ArchiveError, match=r"^The archive unpacks to more than 2 MiB$"):
        upload(tmp_path, data, None)
    assert time.perf_counter() - started < 1.5
    assert stored_files(tmp_path) == []


# --------------------------------------------------------------------------- archives accepted


@pytest.mark.parametrize(
    ("data", "filename", "suffix", "unpacked"),
    [
        (make_zip(("main.py", b"print(1)\n"), ("lib/", b""), ("lib/x.py", b"")), "a.zip", "zip", 9),
        (
            make_tar(tfile("main.py", b"1\n"), tentry("lib", tarfile.DIRTYPE), tfile("lib/x.py")),
            None,
            "tar.gz",
            14,
        ),
    ],
)
def test_good_archives_are_stored_at_their_content_address(
    tmp_path: Path, data: bytes, filename: str | None, suffix: str, unpacked: int
) -> None:
    stored = upload(tmp_path, data, filename)
    sha = hashlib.sha256(data).hexdigest()
    assert stored.sha256 == sha
    assert stored.path == tmp_path / sha[:2] / f"{sha}.{suffix}"
    assert stored.path.read_bytes() == data
    assert (stored.format, stored.size, stored.files) == (suffix, len(data), 3)
    assert stored.unpacked_bytes == unpacked
    assert stored_files(tmp_path) == [stored.path]


def test_same_bytes_twice_are_stored_once(tmp_path: Path) -> None:
    data = make_zip(("main.py", b"print(1)\n"))
    first = upload(tmp_path, data, "a.zip")
    second = upload(tmp_path, data, "b.zip")
    assert first == second
    assert stored_files(tmp_path) == [first.path]


# --------------------------------------------------------------------------- extracting and packing


def mode(path: Path) -> int:
    return stat.S_IMODE(path.lstat().st_mode)


def write_file(path: Path, text: str = "x = 1\n", executable: bool = False) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    path.chmod(0o755 if executable else 0o600)


def test_packed_folder_round_trips(tmp_path: Path) -> None:
    source = tmp_path / "bot"
    write_file(source / "main.py", "print('bot')\n", executable=True)
    write_file(source / "lib" / "util.py")
    (source / "data").mkdir()
    (source / "lib" / "alias.py").symlink_to("util.py")
    packed = io.BytesIO()
    assert pack_folder(source, packed) == 2

    stored = upload(tmp_path / "store", packed.getvalue(), "bot.tar.gz")
    dest = tmp_path / "out"
    extract_archive(stored.path, stored.format, dest, LIMITS)

    assert (dest / "main.py").read_text() == "print('bot')\n"
    assert (dest / "lib" / "util.py").read_text() == "x = 1\n"
    assert os.readlink(dest / "lib" / "alias.py") == "util.py"
    assert (mode(dest / "main.py"), mode(dest / "lib" / "util.py")) == (0o755, 0o644)
    assert (mode(dest / "lib"), mode(dest / "data")) == (0o755, 0o755)
    assert list((dest / "data").iterdir()) == []


def test_extraction_strips_a_single_top_level_folder(tmp_path: Path) -> None:
    archive = tmp_path / "a.zip"
    archive.write_bytes(
        make_zip(
            ("bot-main/", b""),
            (zip_info("bot-main/run.sh", stat.S_IFREG | 0o755), b"#!/bin/sh\n"),
            ("bot-main/lib/x.py", b"x\n"),
        )
    )
    dest = tmp_path / "out"
    extract_archive(archive, "zip", dest, LIMITS)
    assert sorted(p.relative_to(dest).as_posix() for p in dest.rglob("*")) == [
        "lib",
        "lib/x.py",
        "run.sh",
    ]
    assert (mode(dest / "run.sh"), mode(dest / "lib" / "x.py")) == (0o755, 0o644)


def test_extraction_keeps_a_lone_file_and_copies_hard_links(tmp_path: Path) -> None:
    archive = tmp_path / "a.tar.gz"
    archive.write_bytes(
        make_tar(tfile("main.py", b"m\n"), tentry("copy.py", tarfile.LNKTYPE, "main.py"))
    )
    assert check_archive(archive, "tar.gz", LIMITS) == (2, 4)
    dest = tmp_path / "out"
    extract_archive(archive, "tar.gz", dest, LIMITS)
    assert (dest / "copy.py").read_bytes() == b"m\n"
    assert (dest / "copy.py").stat().st_ino != (dest / "main.py").stat().st_ino


def test_extraction_rechecks_everything(tmp_path: Path) -> None:
    archive = tmp_path / "a.tar.gz"
    archive.write_bytes(make_tar(tfile("ok.py"), tentry("link", tarfile.SYMTYPE, "../../x")))
    dest = tmp_path / "out"
    dest.mkdir()
    with pytest.raises(ArchiveError, match=r"^Archive symlink link points outside the archive$"):
        extract_archive(archive, "tar.gz", dest, LIMITS)
    assert list(dest.iterdir()) == []


def test_failed_extraction_is_cleaned_up(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    archive = tmp_path / "a.tar.gz"
    archive.write_bytes(
        make_tar(tfile("a/b/c.py"), tfile("d.py"), tentry("l", tarfile.SYMTYPE, "d.py"))
    )

    def refuse(*args: object, **kwargs: object) -> None:
        raise PermissionError("no symlinks today")

    monkeypatch.setattr(os, "symlink", refuse)
    dest = tmp_path / "out"
    with pytest.raises(PermissionError, match="no symlinks today"):
        extract_archive(archive, "tar.gz", dest, LIMITS)
    assert list(dest.iterdir()) == []


def test_extraction_needs_an_empty_folder(tmp_path: Path) -> None:
    archive = tmp_path / "a.zip"
    archive.write_bytes(make_zip(("main.py", b"")))
    (tmp_path / "out").mkdir()
    (tmp_path / "out" / "old.py").write_text("")
    with pytest.raises(ValueError, match=r"is not empty$"):
        extract_archive(archive, "zip", tmp_path / "out", LIMITS)


def test_pack_folder_skips_clutter_and_outside_links(tmp_path: Path) -> None:
    source = tmp_path / "bot"
    for name in [
        "main.py",
        "lib/b.py",
        "lib/a.py",
        ".git/config",
        "__pycache__/m.cpython-311.pyc",
        "lib/old.pyc",
        ".DS_Store",
        "node_modules/x/index.js",
        "venv/bin/python",
        ".venv/pyvenv.cfg",
        "lib/__pycache__/a.pyc",
    ]:
        write_file(source / name)
    write_file(tmp_path / "secret.txt")
    (source / "up").symlink_to("../secret.txt")
    (source / "abs_out").symlink_to(tmp_path / "secret.txt")
    (source / "abs_in").symlink_to(source / "lib" / "a.py")
    out = source / "bot.tar.gz"
    with out.open("wb") as handle:
        count = pack_folder(source, handle)

    with tarfile.open(out, "r:gz") as archive:
        members = {m.name: m for m in archive.getmembers()}
    assert list(members) == ["abs_in", "lib", "lib/a.py", "lib/b.py", "main.py"]
    assert members["abs_in"].linkname == "lib/a.py"
    assert count == 3
