"""The pages sit above everything: only the composition root (``botarena.app``) imports them."""

from __future__ import annotations

import ast
from pathlib import Path

SOURCE = Path(__file__).resolve().parents[2] / "src" / "botarena"


def importers_of_web() -> set[str]:
    found = set()
    for path in SOURCE.rglob("*.py"):
        relative = path.relative_to(SOURCE)
        if relative.parts[0] == "web":
            continue
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            names = []
            if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                names = [node.module, *(f"{node.module}.{a.name}" for a in node.names)]
            elif isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            if any(name == "botarena.web" or name.startswith("botarena.web.") for name in names):
                found.add(str(relative))
    return found


def test_only_the_composition_root_imports_the_pages() -> None:
    assert importers_of_web() == {"app.py"}
