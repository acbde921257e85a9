"""A folder sent file by file, packed: its top folder dropped, caches left out, and the archive
limits and member-name rules applied before anything is packed."""

from __future__ import annotations

import io
import tarfile

import pytest

from botarena.sources.archives import ArchiveError, ArchiveLimits, pack_sent_folder

LIMITS = ArchiveLimits(max_bytes=1 << 20, max_files=10, max_unpacked_bytes=100)


def _sent(files: dict[str, bytes]) -> list[tuple[str, io.BytesIO]]:
    return [(name, io.BytesIO(data)) for name, data in files.items()]


def test_the_top_folder_and_caches_are_dropped() -> None:
    packed = pack_sent_folder(
        _sent(
            {
                "bot/main.py": b"main",
                "bot/pkg/util.py": b"util",
                "bot/pkg/__pycache__/util.cpython-313.pyc": b"x",
                "bot/.venv/bin/python": b"x",
                "bot/old.pyc": b"x",
            }
        ),
        LIMITS,
    )
    with tarfile.open(fileobj=packed, mode="r:gz") as tar:
        contents = {m.name: tar.extractfile(m).read() for m in tar.getmembers()}  # type: ignore[union-attr]
    assert contents == {"main.py": b"main", "pkg/util.py": b"util"}


@pytest.mark.parametrize(
    ("files", "says"),
    [
        ({"bot/a.py": b"x" * 60, "bot/b.py": b"x" * 41}, "unpacks to more than 100 bytes"),
        ({f"bot/{n}.py": b"" for n in range(11)}, "more than 10 files"),
        ({"bot/a\x00.py": b""}, "control character"),
        ({"C:/bot/a.py": b""}, "absolute path"),
        ({"bot/__pycache__/a.pyc": b""}, "no files to submit"),
    ],
)
def test_what_breaks_the_rules_is_refused(files: dict[str, bytes], says: str) -> None:
    with pytest.raises(ArchiveError, match=says):
        pack_sent_folder(_sent(files), LIMITS)
