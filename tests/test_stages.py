"""The stages import forward only: an earlier stage never imports a later one, and the
packages below them all (the job queue, the database layer, the executor, …) import no
stage. Read from the source, lazy imports inside functions included."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

import botarena

PACKAGE = Path(botarena.__file__).parent
# In the order data flows; ladder and tournaments are peers at the end.
STAGES = [
    ["accounts"],
    ["audit"],
    ["agents"],
    ["builds"],
    ["matches"],
    ["ratings"],
    ["ladder", "tournaments"],
]
RANK = {name: rank for rank, names in enumerate(STAGES) for name in names}
BELOW = ["sdk", "games", "sources", "executor", "db", "jobs"]


def _imports(package: str) -> list[tuple[str, str]]:
    """(file, imported package) for every botarena package ``package``'s files import."""
    found = []
    for path in sorted((PACKAGE / package).rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                names = [node.module]
            elif isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            else:
                continue
            for name in names:
                parts = name.split(".")
                if parts[0] == "botarena" and len(parts) > 1 and parts[1] != package:
                    found.append((str(path.relative_to(PACKAGE)), parts[1]))
    return found


@pytest.mark.parametrize("stage", list(RANK))
def test_a_stage_imports_no_later_stage(stage: str) -> None:
    later = [(f, other) for f, other in _imports(stage) if RANK.get(other, -1) > RANK[stage]]
    assert later == []


@pytest.mark.parametrize("package", BELOW)
def test_what_lies_below_the_stages_imports_none(package: str) -> None:
    assert (PACKAGE / package).is_dir()
    stages = [(f, other) for f, other in _imports(package) if other in RANK or other == "api"]
    assert stages == []
