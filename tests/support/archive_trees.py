"""Hypothesis strategies for hostile archive trees, and writing them as real tar.gz and zip bytes.

A tree is a list of :class:`Spec` (one per member, in archive order). The tar writer lays out
headers and contents by hand so that a header may declare a size its content does not have;
the zip writer can put NUL into a member name. Link targets and names may name the real
folders beside the extraction target through the stand-ins :data:`SENTINEL` and :data:`BASE`,
which the writers replace with the paths of the example being run.
"""

from __future__ import annotations

import gzip
import io
import os
import re
import stat
import tarfile
import warnings
import zipfile
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Literal

from hypothesis import strategies as st

from support.strategies import mostly

SENTINEL = "@SENTINEL@"
BASE = "@BASE@"
# The system's limit on a whole path, and a stand-in for a run of folders that brings a path
# under the example's extraction target to that limit plus or minus a few bytes.
PATH_MAX = 4096
_LONG = re.compile(r"@LONG([+-][0-9]+)@")


def long_prefix(excess: int) -> str:
    """Stand-in for folders that make the member's path under the target PATH_MAX + excess long."""
    return f"@LONG{excess:+d}@"


TarFormat = Literal[0, 1, 2]  # tarfile.USTAR_FORMAT, GNU_FORMAT, PAX_FORMAT
CONTAINERS = ["gnu", "pax", "zip-deflated", "zip-stored", "zip-bzip2"]


@dataclass(frozen=True)
class Spec:
    """One archive member to write: its kind, name, link target, content and declared size."""

    kind: str  # file, dir, symlink, hardlink, chr, blk or fifo
    name: str
    target: str = ""
    data: bytes = b""  # a hard link's data is what a zip (which has no hard links) stores
    executable: bool = False
    declared: int | None = None  # a size in the tar header that differs from the content


def file(name: str, data: bytes = b"x = 1\n") -> Spec:
    return Spec("file", name, data=data)


def link(name: str, target: str, kind: str = "symlink") -> Spec:
    return Spec(kind, name, target=target)


# --------------------------------------------------------------------------- strategies

PLAIN = st.sampled_from(["a", "b", "c", "main.py", "sentinel"])
HOSTILE = st.one_of(
    st.sampled_from(["..", ".", "", "a\\b", "..\\x", "C:", "C:\\w", "\\\\srv", "\u202e"]),
    st.sampled_from(["x\x00y", "x\x1by", "x\ny", "é", "e\u0301", "\udcff", "a\u2028"]),
    st.sampled_from(["a" * 255, "é" * 128, "a" * 256]),
    st.text(alphabet="ab./\\\x00", max_size=4),
)


@st.composite
def names(draw: st.DrawFn) -> str:
    """Mostly plain relative names (so that whole trees are accepted often), else hostile."""
    how = draw(mostly(st.just("plain"), st.sampled_from(["odd", "many", "long", "lead"]), 5))
    part = st.one_of(PLAIN, HOSTILE) if how == "odd" else PLAIN
    parts = draw(st.lists(part, min_size=1, max_size=4))
    if how == "many":  # many levels
        parts = ["d"] * draw(st.integers(10, 300)) + parts
    elif how == "long":  # few levels, but a path around the system's limit once extracted
        parts = [long_prefix(draw(st.integers(-40, 10))), *parts]
    lead = draw(st.sampled_from(["", "/", "./", "\\", "../", SENTINEL])) if how == "lead" else ""
    tail = draw(mostly(st.just(""), st.sampled_from(["/", "\\", "/."]), 6))
    return lead + "/".join(parts) + tail


@st.composite
def targets(draw: st.DrawFn) -> str:
    """Link targets: inside, up and out, absolute, through other links, near the size limit."""
    choice = draw(st.sampled_from(range(8)))
    if choice == 0:  # somewhere real outside the extraction folder, absolute
        return draw(st.sampled_from([SENTINEL, f"{SENTINEL}/kept.txt", BASE, "/etc", "/", "C:\\"]))
    if choice == 1:  # long targets around the kernel's limit of 4095 bytes
        size = draw(st.sampled_from([4094, 4095, 4096, 4097]))
        return "./" * (size // 2) + "a" * (size % 2)
    parts = draw(st.lists(st.sampled_from(["..", ".", "a", "b", "c", "", "sentinel"]), max_size=5))
    lead = draw(mostly(st.just(""), st.sampled_from(["/", "\\"]), 8))
    return lead + draw(mostly(st.just("/"), st.just("\\"), 5)).join(parts)


KINDS = mostly(
    st.sampled_from(["file", "file", "file", "dir", "symlink", "symlink", "hardlink"]),
    st.sampled_from(["chr", "blk", "fifo"]),
    one_in=15,
)
LIES = [0, 1, 511, 513, 1 << 31, (1 << 32) - 1, 1 << 62]


@st.composite
def specs(draw: st.DrawFn) -> Spec:
    kind = draw(KINDS)
    data = b""
    if kind == "file":
        data = draw(mostly(st.binary(max_size=64), st.integers(1000, 5000).map(bytes), 8))
    lie = draw(mostly(st.none(), st.sampled_from(LIES), 10)) if kind == "file" else None
    return Spec(
        kind=kind,
        name=draw(names()),
        target=draw(targets()) if kind in ("symlink", "hardlink") else "",
        data=data,
        executable=draw(st.booleans()),
        declared=lie,
    )


TREES = st.lists(specs(), min_size=1, max_size=10)


@st.composite
def plain_trees(draw: st.DrawFn) -> list[Spec]:
    """Trees worth accepting: folders a-c, files x/y/z, links and hard links to those files.

    ``main.py`` at the top keeps a single top folder from being stripped, so every member
    lands at its own name.
    """
    tree: dict[str, Spec] = {"main.py": file("main.py", b"print(1)\n")}
    for _ in range(draw(st.integers(0, 8))):
        folder = "/".join(draw(st.lists(st.sampled_from("abc"), max_size=3)))
        leaf = draw(st.sampled_from(["x.py", "y.txt", "z", "l1", "l2", "h1"]))
        name = f"{folder}/{leaf}" if folder else leaf
        if name in tree:
            continue
        files = sorted(path for path, spec in tree.items() if spec.kind == "file")
        if leaf[0] in "lh":
            source = tree[draw(st.sampled_from(files))]
            if leaf.startswith("l"):
                target = os.path.relpath(source.name, os.path.dirname(name) or ".")
                tree[name] = replace(source, kind="symlink", name=name, target=target)
            else:
                tree[name] = replace(source, kind="hardlink", name=name, target=source.name)
        else:
            tree[name] = file(name, draw(st.binary(max_size=40)))
    return list(tree.values())


@dataclass(frozen=True)
class Damage:
    """Damage done to a valid archive's bytes: positions are taken modulo its length."""

    how: str = "none"
    spots: tuple[tuple[int, int], ...] = ()
    spliced: bytes = b""

    def apply(self, data: bytes) -> bytes:
        if not data or self.how == "none":
            return data
        first = self.spots[0][0] % len(data) if self.spots else 0
        if self.how == "truncate":
            return data[:first]
        if self.how == "splice":
            return data[:first] + self.spliced + data[first:]
        out = bytearray(data)
        for at, mask in self.spots:
            out[at % len(out)] ^= mask
        return bytes(out)


DAMAGE = st.builds(
    Damage,
    how=mostly(st.just("none"), st.sampled_from(["truncate", "flip", "flip", "splice"]), 4),
    spots=st.lists(
        st.tuples(st.integers(0, 1 << 16), st.integers(1, 255)), min_size=1, max_size=4
    ).map(tuple),
    spliced=st.binary(min_size=1, max_size=32),
)


# --------------------------------------------------------------------------- writing archives

TAR_TYPES = {
    "file": tarfile.REGTYPE,
    "dir": tarfile.DIRTYPE,
    "symlink": tarfile.SYMTYPE,
    "hardlink": tarfile.LNKTYPE,
    "chr": tarfile.CHRTYPE,
    "blk": tarfile.BLKTYPE,
    "fifo": tarfile.FIFOTYPE,
}
ZIP_TYPES = {
    "file": stat.S_IFREG,
    "hardlink": stat.S_IFREG,
    "dir": stat.S_IFDIR,
    "symlink": stat.S_IFLNK,
    "chr": stat.S_IFCHR,
    "blk": stat.S_IFBLK,
    "fifo": stat.S_IFIFO,
}


def placed(text: str, base: Path) -> str:
    text = text.replace(SENTINEL, str(base / "sentinel")).replace(BASE, str(base))
    match = _LONG.search(text)
    if match is None:
        return text
    # Sized for ``base / "target"``, so that the whole path ends up near PATH_MAX there.
    rest = len(text.encode()) - len(match.group(0))
    size = PATH_MAX + int(match.group(1)) - len(str(base / "target").encode()) - 1 - rest
    folders, last = divmod(max(size, 1), 201)
    run = ("d" * 200 + "/") * folders + "d" * last
    return text.replace(match.group(0), run.rstrip("/") + "d" * run.endswith("/"))


def tar_header(info: tarfile.TarInfo, fmt: TarFormat) -> bytes:
    return info.tobuf(fmt, "utf-8", "surrogateescape")


def padded(data: bytes) -> bytes:
    return data + bytes(-len(data) % tarfile.BLOCKSIZE)


def build_tar(tree: list[Spec], fmt: TarFormat, base: Path) -> bytes:
    """Headers and contents laid out by hand, so that sizes in headers may lie."""
    raw = io.BytesIO()
    for spec in tree:
        info = tarfile.TarInfo(placed(spec.name, base))
        info.type = TAR_TYPES[spec.kind]
        info.linkname = placed(spec.target, base)
        info.mode = 0o755 if spec.executable else 0o644
        data = spec.data if spec.kind == "file" else b""
        info.size = len(data) if spec.declared is None else spec.declared
        raw.write(tar_header(info, fmt) + padded(data))
    raw.write(bytes(2 * tarfile.BLOCKSIZE))
    return gzip.compress(raw.getvalue(), compresslevel=1, mtime=0)


def build_zip(tree: list[Spec], base: Path, method: int) -> bytes:
    buffer = io.BytesIO()
    nuls: list[tuple[bytes, bytes]] = []
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # duplicate names are wanted here
        with zipfile.ZipFile(buffer, "w") as archive:
            for spec in tree:
                # A zip name is text; bytes that are not UTF-8 cannot be written as such.
                name = placed(spec.name, base).replace("\udcff", "?") or "empty"
                if "\x00" in name:
                    # ZipInfo cuts a name at NUL: write a stand-in and patch the bytes after.
                    nuls.append((name.replace("\x00", "\x7f").encode(), name.encode()))
                    name = name.replace("\x00", "\x7f")
                info = zipfile.ZipInfo(name)
                perms = 0o755 if spec.executable else 0o644
                info.external_attr = (ZIP_TYPES[spec.kind] | perms) << 16
                info.compress_type = method
                content = spec.data
                if spec.kind == "symlink":
                    content = placed(spec.target, base).encode("utf-8", "surrogateescape")
                archive.writestr(info, content)
    data = buffer.getvalue()
    for stand_in, real in nuls:
        data = data.replace(stand_in, real)
    return data


def build(tree: list[Spec], container: str, base: Path) -> tuple[bytes, str]:
    """The archive's bytes and the file name an honest client would upload them under."""
    if container == "gnu":
        return build_tar(tree, tarfile.GNU_FORMAT, base), "bot.tar.gz"
    if container == "pax":
        return build_tar(tree, tarfile.PAX_FORMAT, base), "bot.tgz"
    methods = {"zip-deflated": zipfile.ZIP_DEFLATED, "zip-stored": zipfile.ZIP_STORED}
    return build_zip(tree, base, methods.get(container, zipfile.ZIP_BZIP2)), "bot.zip"
