"""docs/architecture.md's layout names every package and file of the tree, and nothing else.

A new file must be written into the layout with its one meaning; a file moved or removed must
leave it. Each entry of the layout is a line ``  folder/   …`` (or ``  module.py   …``) in one
of its code blocks, followed by its indented continuation lines.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
SOURCE = ROOT / "src" / "botarena"
DOC = ROOT / "docs" / "architecture.md"
# Written by a generator, not by us: named by their folder's entry only.
GENERATED = {"executor/proto"}
_ENTRY = re.compile(r"^  ((?:[\w./]+/ )*[\w./]+)\s{2,}(.*)$")
_KEY = re.compile(r"[\w./]+")


def layout(text: str) -> dict[str, str]:
    """Each entry's text, by the folder (``builds/backends``) or module (``app.py``) it names."""
    section = text.split("## Layout", 1)[1].split("\n## ", 1)[0]
    entries: dict[str, str] = {}
    keys: list[str] = []
    for block in re.findall(r"```\n(.*?)```", section, flags=re.S):
        for line in block.splitlines():
            entry = _ENTRY.match(line)
            if entry and not line.startswith("   "):
                keys = [key.rstrip("/") for key in _KEY.findall(entry.group(1))]
                for key in keys:
                    entries[key] = entries.get(key, "") + " " + entry.group(2)
            elif keys and line.startswith("   "):
                for key in keys:
                    entries[key] += " " + line.strip()
            else:
                keys = []
    return entries


def packages() -> list[str]:
    """Every package of the tree, as a path below ``botarena/``."""
    return sorted(
        str(init.parent.relative_to(SOURCE))
        for init in SOURCE.rglob("__init__.py")
        if init.parent != SOURCE
    )


def modules(package: str) -> list[str]:
    return sorted(p.stem for p in (SOURCE / package).glob("*.py") if p.name != "__init__.py")


ENTRIES = layout(DOC.read_text(encoding="utf-8"))


@pytest.mark.parametrize("package", packages())
def test_every_package_has_an_entry_naming_each_of_its_files(package: str) -> None:
    assert package in ENTRIES, f"docs/architecture.md has no entry for {package}/"
    if package in GENERATED:
        return
    words = set(re.findall(r"[\w.]+", ENTRIES[package]))
    missing = [m for m in modules(package) if m not in words and f"{m}.py" not in words]
    assert missing == [], f"{package}/ entry does not name {missing}"


@pytest.mark.parametrize("key", sorted(ENTRIES))
def test_every_entry_names_only_what_exists(key: str) -> None:
    if key in {"src/botarena", "tests"}:
        return
    assert (SOURCE / key).exists(), f"the layout names {key}, which is not in the tree"
    if key.endswith(".py"):
        return
    named = re.findall(r"(?<![\w/.])(\w+\.py)\b", ENTRIES[key])
    stale = [name for name in named if not (SOURCE / key / name).exists()]
    assert stale == [], f"the {key}/ entry names files it does not hold: {stale}"


def test_every_top_level_module_has_an_entry() -> None:
    top = sorted(p.name for p in SOURCE.glob("*.py") if p.name != "__init__.py")
    words = set(re.findall(r"[\w.]+\.py", " ".join(ENTRIES) + " " + " ".join(ENTRIES.values())))
    assert [name for name in top if name not in words] == []


def test_the_reader_finds_entries_and_their_continuations() -> None:
    text = (
        "## Layout\n```\n  a/        one.py (x), two.py\n"
        "            three.py\n  b/ c/      four.py\n  d.py      e\n```\n## Next\n"
    )
    entries = layout(text)
    assert set(entries) == {"a", "b", "c", "d.py"}
    assert "three.py" in entries["a"] and "four.py" in entries["c"]
