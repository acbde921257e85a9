"""Routes stay thin: no routes module queries the database or commits; services do.

Read from the source: a routes module that imports SQLAlchemy's query builders, or calls
``execute``/``scalar``/``scalars``/``get``/``commit`` on a session, is named with the line.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

SOURCE = Path(__file__).resolve().parents[1] / "src" / "botarena"
ROUTES = sorted(SOURCE.rglob("routes.py"))
_SESSION_CALLS = {"execute", "scalar", "scalars", "get", "commit", "add", "delete", "flush"}


def offences(path: Path) -> list[str]:
    """Each query or commit in the module, as ``file:line what``."""
    found = []
    tree = ast.parse(path.read_text(encoding="utf-8"))
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and (node.module or "").startswith("sqlalchemy"):
            found.append(f"{path.name}:{node.lineno} imports {node.module}")
        elif (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Attribute)
            and node.func.attr in _SESSION_CALLS
            and isinstance(node.func.value, ast.Name)
            and node.func.value.id == "session"
        ):
            found.append(f"{path.name}:{node.lineno} session.{node.func.attr}()")
    return found


@pytest.mark.parametrize("path", ROUTES, ids=lambda p: str(p.parent.relative_to(SOURCE)))
def test_a_routes_module_neither_queries_nor_commits(path: Path) -> None:
    assert offences(path) == []


def test_the_check_finds_a_query_and_a_commit(tmp_path: Path) -> None:
    module = tmp_path / "routes.py"
    module.write_text(
        "from sqlalchemy import select\n"
        "def route(session):\n"
        "    session.scalar(select(1))\n"
        "    session.commit()\n"
    )
    assert offences(module) == [
        "routes.py:1 imports sqlalchemy",
        "routes.py:3 session.scalar()",
        "routes.py:4 session.commit()",
    ]


def test_there_are_routes_to_check() -> None:
    assert len(ROUTES) >= 8
