"""Property tests for the archive checks: hostile tar and zip trees are refused or stay inside.

Random trees (see ``support.archive_trees``: links in and out, devices, ``..``, odd names,
duplicates, lying headers, damaged bytes) are handed to the functions the way the app does:
:func:`store_archive` on upload, :func:`extract_archive` when building. Whatever the input,
each call either succeeds or raises :class:`ArchiveError`; a refusal leaves nothing behind,
and an extracted tree stays inside its folder and within the limits, with a sentinel folder
beside it untouched.
"""

from __future__ import annotations

import gzip
import hashlib
import io
import os
import stat
import tarfile
import tempfile
from pathlib import Path

import pytest
from hypothesis import (
    HealthCheck,
    Phase,
    currently_in_test_context,
    event,
    example,
    given,
    note,
    settings,
)
from hypothesis import strategies as st

from botarena.sources.archives import (
    ArchiveError,
    ArchiveLimits,
    check_archive,
    detect_format,
    extract_archive,
    store_archive,
)
from botarena.sources.archives.check import scan

from support.archive_trees import (
    CONTAINERS,
    DAMAGE,
    PATH_MAX,
    SENTINEL,
    TREES,
    Damage,
    Spec,
    TarFormat,
    build,
    file,
    link,
    long_prefix,
    padded,
    plain_trees,
    specs,
    tar_header,
)
from support.strategies import mostly

# Repeatable in CI: the same examples every run, and no example database on disk.
PROPERTY = settings(
    max_examples=200,
    deadline=None,
    derandomize=True,
    database=None,
    # The explain phase reruns a failure many times over; the shrunk example says enough.
    phases=[Phase.explicit, Phase.reuse, Phase.generate, Phase.shrink],
    suppress_health_check=[
        HealthCheck.function_scoped_fixture,  # every example works in a fresh folder under it
        HealthCheck.too_slow,
        HealthCheck.data_too_large,
    ],
)

KEPT = b"the sentinel must not change\n"
WIDE = ArchiveLimits(max_bytes=1 << 20, max_files=12, max_unpacked_bytes=1 << 20)
LIMITS = st.builds(
    ArchiveLimits,
    max_bytes=mostly(st.just(1 << 20), st.sampled_from([200, 4096]), 8),
    max_files=mostly(st.sampled_from([8, 12]), st.integers(1, 7), 4),
    max_unpacked_bytes=mostly(st.sampled_from([3000, 1 << 20]), st.sampled_from([0, 10, 100]), 6),
)
SOME_CONTAINER = mostly(st.sampled_from(CONTAINERS[:4]), st.just("zip-bzip2"), 10)

# --------------------------------------------------------------------------- what must hold


def snapshot(folder: Path) -> list[tuple[str, int, bytes]]:
    """Every entry under ``folder``: relative path, mode and content (or link target)."""
    seen = []
    for current, folders, files in os.walk(folder):
        for name in folders + files:
            path = Path(current, name)
            info = path.lstat()
            if stat.S_ISLNK(info.st_mode):
                content = os.readlink(path).encode()
            elif stat.S_ISREG(info.st_mode):
                content = hashlib.sha256(path.read_bytes()).digest()
            else:
                content = b""
            seen.append((str(path.relative_to(folder)), info.st_mode, content))
    return sorted(seen)


def inside(path: str, root: str) -> bool:
    return os.path.commonpath([path, root]) == root


def assert_tree_inside(dest: Path, limits: ArchiveLimits) -> None:
    """Everything under ``dest`` is a plain file, a folder or a link that resolves inside."""
    root = os.path.realpath(dest)
    files = links = unpacked = 0
    for current, folders, names_here in os.walk(dest):
        for name in folders + names_here:
            path = os.path.join(current, name)
            info = os.lstat(path)
            assert inside(os.path.realpath(path), root), path
            if stat.S_ISLNK(info.st_mode):
                links += 1
                assert not os.path.isabs(os.readlink(path)), path
            elif stat.S_ISREG(info.st_mode):
                files += 1
                unpacked += info.st_size
                assert info.st_nlink == 1, f"{path} is a hard link"
                assert stat.S_IMODE(info.st_mode) in (0o644, 0o755), path
            else:
                assert stat.S_ISDIR(info.st_mode), f"{path} is a special file"
                assert stat.S_IMODE(info.st_mode) == 0o755, path
    assert files + links <= limits.max_files
    assert unpacked <= limits.max_unpacked_bytes


class Place:
    """A fresh folder per example: the archive store, extraction targets and a sentinel."""

    def __init__(self, under: Path) -> None:
        self.base = Path(tempfile.mkdtemp(dir=under))
        self.store = self.base / "store"
        sentinel = self.base / "sentinel"
        sentinel.mkdir()
        (sentinel / "kept.txt").write_bytes(KEPT)
        self.before = snapshot(sentinel)

    def untouched(self) -> None:
        """The sentinel is as it was, and nothing new appeared beside the targets."""
        assert snapshot(self.base / "sentinel") == self.before
        beside = {path.name for path in self.base.iterdir()}
        assert beside <= {"sentinel", "store", "target", "target-zip", "target-tar.gz"}

    def extract(self, archive: Path, fmt: str, limits: ArchiveLimits, target: str) -> str:
        """Extract as a build does; the refusal's sentence, or "" once the tree is checked."""
        dest = self.base / target
        try:
            extract_archive(archive, fmt, dest, limits)  # type: ignore[arg-type]
        except ArchiveError as exc:
            assert not dest.exists() or list(dest.iterdir()) == []
            refusal = str(exc)
        else:
            assert_tree_inside(dest, limits)
            refusal = ""
        self.untouched()
        return refusal


def tell(text: str, *, outcome: bool = False) -> None:
    """A note for a failing example (or an outcome for the statistics) inside hypothesis."""
    if currently_in_test_context():
        (event if outcome else note)(text)


def upload_then_build(place: Place, data: bytes, filename: str, limits: ArchiveLimits) -> bool:
    """The app's two calls: store the upload, then extract what was stored; True if built."""
    tell(f"uploaded as {filename}: {len(data)} bytes, {limits}")
    try:
        stored = store_archive(io.BytesIO(data), filename, limits, place.store)
    except ArchiveError:
        tell("upload refused", outcome=True)
        assert [path for path in place.store.rglob("*") if not path.is_dir()] == []
        place.untouched()
        # Extraction checks everything again, whatever it is given: it must be just as safe.
        raw = place.store / "refused"
        raw.write_bytes(data)
        for fmt in ("zip", "tar.gz"):
            place.extract(raw, fmt, limits, f"target-{fmt}")
        return False
    assert stored.path.read_bytes() == data
    assert detect_format(stored.path, None) == stored.format
    assert stored.files <= limits.max_files
    assert stored.unpacked_bytes <= limits.max_unpacked_bytes
    counts = check_archive(stored.path, stored.format, limits)
    assert counts == (stored.files, stored.unpacked_bytes)
    # An accepted upload must build, unless a path is too long for the folder it lands in.
    refusal = place.extract(stored.path, stored.format, limits, "target")
    if refusal:
        assert refusal.endswith("too long to extract"), refusal
        members = scan(stored.path, stored.format, limits).members
        longest = max(len("/".join(member.parts).encode()) for member in members)
        assert len(str(place.base / "target").encode()) + 1 + longest >= PATH_MAX, refusal
    tell("built" if not refusal else "stored, then refused: too long here", outcome=True)
    return not refusal


# --------------------------------------------------------------------------- the properties


def built(tree: list[Spec], container: str, place: Place) -> tuple[bytes, str]:
    # Spelled out on failure: under this pytest set-up the falsifying arguments print blank.
    tell(f"{container}: {tree!r}")
    return build(tree, container, place.base)


REFUSED, TAR_REFUSED, EITHER = "refused", "refused as tar", "either"
ATTACKS = [
    # a link out, then a file written through it
    (REFUSED, [file("main.py"), link("l", SENTINEL), file("l/evil.py")]),
    (REFUSED, [file("main.py"), link("l", "../sentinel"), file("l/kept.txt", b"owned")]),
    (REFUSED, [file("main.py"), link("l", "../sentinel"), Spec("dir", "l/sub")]),
    (REFUSED, [file("main.py"), link("a/l", "../../sentinel"), link("a/l/m", "x")]),
    (REFUSED, [file("main.py"), link("l", "../sentinel/kept.txt"), link("h", "l", "hardlink")]),
    (REFUSED, [file("main.py"), link("l", "sub"), Spec("dir", "sub"), file("l/x.py")]),
    # chains of links and links to links
    (REFUSED, [file("main.py"), link("a", "."), link("b", "a/a/a/.."), link("c", "b/../..")]),
    (REFUSED, [file("main.py"), link("l1", "l2"), link("l2", "l3"), link("l3", "..")]),
    (REFUSED, [file("main.py"), link("self", "."), link("esc", "self/self/../..")]),
    (REFUSED, [file("main.py"), link("loop", "loop2"), link("loop2", "loop")]),
    (REFUSED, [file("proj/main.py"), link("proj/up", "..")]),
    (REFUSED, [file("main.py"), link("up", "a/.."), link("a", "..")]),
    (EITHER, [file("main.py"), link("l1", "l2"), link("l2", "sub/../main.py"), Spec("dir", "sub")]),
    # hard links out, to themselves, and a file written over one (zip has no hard links)
    (TAR_REFUSED, [file("main.py"), link("h", f"{SENTINEL}/kept.txt", "hardlink")]),
    (TAR_REFUSED, [file("main.py"), link("h", "../sentinel/kept.txt", "hardlink")]),
    (TAR_REFUSED, [file("main.py"), link("h", "h", "hardlink")]),
    (REFUSED, [file("main.py"), link("h", "main.py", "hardlink"), file("h")]),
    # one name twice, a file and a folder of the same name
    (REFUSED, [file("main.py"), link("main.py", "../sentinel/kept.txt")]),
    (REFUSED, [file("a"), Spec("dir", "a")]),
    (REFUSED, [Spec("dir", "a"), file("a/"), file("b")]),
    (REFUSED, [file("a/b.py"), file("a\\b.py")]),
    (REFUSED, [file("./x"), file("x")]),
    # names that escape
    (REFUSED, [file("../sentinel/kept.txt", b"owned")]),
    (REFUSED, [file(f"{SENTINEL}/kept.txt", b"owned")]),
    (REFUSED, [file("..\\sentinel\\x.py")]),
    (REFUSED, [file("a/../../x.py")]),
    (REFUSED, [file("C:\\x.py")]),
    (EITHER, [file("x\x00/../../y.py")]),  # a tar header ends the name at NUL: "x"
    (REFUSED, [file("main.py"), file("bad\nname.py")]),
    (REFUSED, [file("main.py"), file("\x1b[31mred.py")]),
    (REFUSED, [file("main.py"), link("l", "main\x01.py")]),
    # devices and FIFOs
    (REFUSED, [file("main.py"), Spec("chr", "null")]),
    (REFUSED, [file("main.py"), Spec("blk", "sda")]),
    (REFUSED, [file("main.py"), Spec("fifo", "pipe")]),
    # long link targets, long paths once extracted, deep trees, nothing at all
    (REFUSED, [file("main.py"), link("l", "./" * 2048)]),
    (EITHER, [file("main.py"), link("l", "./" * 2047 + "a")]),
    (EITHER, [file("main.py"), file(long_prefix(-1) + "/x.py")]),
    (EITHER, [file("main.py"), file(long_prefix(0) + "/x.py"), file("z/y.py")]),
    (EITHER, [file("a/" * 20 + "f.py"), file(long_prefix(3) + "/x.py")]),
    (EITHER, [file("main.py"), file("d/" * 255 + "x.py")]),
    (REFUSED, [file("main.py"), file("d/" * 256 + "x.py")]),
    (REFUSED, [file("main.py"), file("d/" * 2000 + "x.py")]),
    (REFUSED, []),
    (REFUSED, [Spec("dir", "only")]),
]


@pytest.mark.parametrize("container", ["gnu", "pax", "zip-deflated"])
@pytest.mark.parametrize(("expected", "tree"), ATTACKS)
def test_known_attacks_are_refused_and_never_escape(
    tmp_path: Path, expected: str, tree: list[Spec], container: str
) -> None:
    place = Place(tmp_path)
    data, filename = built(tree, container, place)
    accepted = upload_then_build(place, data, filename, WIDE)
    if expected == REFUSED or (expected == TAR_REFUSED and container in ("gnu", "pax")):
        assert not accepted


@settings(PROPERTY, max_examples=100)
@given(attack=st.sampled_from(ATTACKS), container=st.sampled_from(CONTAINERS), damage=DAMAGE)
def test_known_attacks_damaged_never_escape(
    tmp_path: Path, attack: tuple[str, list[Spec]], container: str, damage: Damage
) -> None:
    place = Place(tmp_path)
    data, filename = built(attack[1], container, place)
    upload_then_build(place, damage.apply(data), filename, WIDE)


@PROPERTY
@given(tree=TREES, container=SOME_CONTAINER, limits=LIMITS, damage=DAMAGE)
@example(tree=[file("main.py")], container="gnu", limits=WIDE, damage=Damage())
def test_random_trees_are_refused_or_extracted_inside(
    tmp_path: Path, tree: list[Spec], container: str, limits: ArchiveLimits, damage: Damage
) -> None:
    place = Place(tmp_path)
    data, filename = built(tree, container, place)
    upload_then_build(place, damage.apply(data), filename, limits)


@PROPERTY
@given(
    good=plain_trees(),
    bad=st.lists(st.tuples(st.integers(0, 20), specs()), min_size=1, max_size=2),
    container=SOME_CONTAINER,
    limits=LIMITS,
)
def test_one_hostile_member_in_a_good_tree(
    tmp_path: Path,
    good: list[Spec],
    bad: list[tuple[int, Spec]],
    container: str,
    limits: ArchiveLimits,
) -> None:
    tree = list(good)
    for position, spec in bad:
        tree.insert(position % (len(tree) + 1), spec)
    place = Place(tmp_path)
    data, filename = built(tree, container, place)
    upload_then_build(place, data, filename, limits)


SMALL_LIMITS = st.builds(
    ArchiveLimits,
    max_bytes=st.sampled_from([150, 300, 600, 1 << 20]),
    max_files=st.integers(1, 12),
    max_unpacked_bytes=st.sampled_from([0, 9, 30, 100, 300, 1 << 20]),
)


@settings(PROPERTY, max_examples=150)
@given(tree=plain_trees(), container=st.sampled_from(CONTAINERS[:4]), limits=SMALL_LIMITS)
def test_good_trees_are_accepted_exactly_within_the_limits(
    tmp_path: Path, tree: list[Spec], container: str, limits: ArchiveLimits
) -> None:
    """A plain tree is refused if and only if it breaks a limit; else extracted as it was."""
    place = Place(tmp_path)
    data, filename = built(tree, container, place)
    unpacked = sum(len(spec.data) for spec in tree if spec.kind != "symlink")
    within = (
        len(data) <= limits.max_bytes
        and len(tree) <= limits.max_files
        and unpacked <= limits.max_unpacked_bytes
    )
    assert upload_then_build(place, data, filename, limits) == within
    if not within:
        return
    dest = place.base / "target"
    for spec in tree:
        path = dest / spec.name
        assert path.read_bytes() == spec.data
        assert path.is_symlink() == (spec.kind == "symlink")
        if spec.kind != "symlink":
            assert os.access(path, os.X_OK) == spec.executable


@settings(PROPERTY, max_examples=60)
@given(
    kind=st.sampled_from([tarfile.GNUTYPE_LONGNAME, tarfile.GNUTYPE_LONGLINK, tarfile.XHDTYPE]),
    body=st.sampled_from([0, 100, 4096, 200_000, (1 << 20) + 1, 3 << 20]),
    declared=st.one_of(st.none(), st.sampled_from([0, 1, 1 << 20, (1 << 20) + 512, 1 << 40])),
    fmt=st.sampled_from([tarfile.GNU_FORMAT, tarfile.PAX_FORMAT]),
    follows=st.booleans(),
)
def test_huge_tar_headers_are_refused(
    tmp_path: Path, kind: bytes, body: int, declared: int | None, fmt: TarFormat, follows: bool
) -> None:
    """GNU long names and pax records of any size, declared truthfully or not."""
    place = Place(tmp_path)
    if kind == tarfile.XHDTYPE:
        record = b" path=" + b"a" * body + b"\n"
        digits = len(str(len(record)))
        while len(str(len(record) + digits)) != digits:
            digits += 1
        content = str(len(record) + digits).encode() + record
    else:
        content = b"b" * body + b"\x00"
    header = tarfile.TarInfo("././@LongLink")
    header.type = kind
    header.size = len(content) if declared is None else declared
    raw = tar_header(header, tarfile.GNU_FORMAT) + padded(content)
    if follows:
        member = tarfile.TarInfo("main.py")
        member.size = 2
        raw += tar_header(member, fmt) + padded(b"1\n")
    data = gzip.compress(raw + bytes(1024), compresslevel=6, mtime=0)
    accepted = upload_then_build(place, data, "bot.tar.gz", WIDE)
    # Only a header of at most 1 MiB followed by a member may be read at all, and only if its
    # declared size takes as many tar blocks as its content (tar reads whole blocks).
    truthful = -(-header.size // tarfile.BLOCKSIZE) == -(-len(content) // tarfile.BLOCKSIZE)
    assert not accepted or (truthful and body <= 200_000 and follows)
