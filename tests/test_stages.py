"""The package's imports keep the stage order of docs/architecture.md.

The data path goes forward only: an earlier stage never imports a later one (it publishes, and
the composition root wires the later stage in); the foundation (games, sources, executor, db,
settings, the job queue, the event bus, …) imports no stage; and no two packages import each
other, even through a function-level import.
"""

from __future__ import annotations

import ast
from collections.abc import Iterable, Mapping
from pathlib import Path

import pytest

SOURCE = Path(__file__).resolve().parents[1] / "src" / "botarena"

# The data path, in order; packages of one rank may not import each other either.
STAGES: tuple[frozenset[str], ...] = (
    frozenset({"accounts"}),
    frozenset({"audit"}),
    frozenset({"competitions"}),
    frozenset({"teams"}),
    frozenset({"agents"}),
    frozenset({"builds"}),
    frozenset({"matches"}),
    frozenset({"ratings"}),
    frozenset({"ladder", "tournaments"}),
    frozenset({"finals"}),
    frozenset({"notifications"}),
)
# What wires the stages together: it may import anything, and nothing imports it.
COMPOSITION = frozenset(
    {"app", "cli", "demo", "health", "models", "monitoring", "readiness", "web", "__main__"}
)
# Below the web layer too: these never import what the routes share (``api``).
BELOW_THE_WEB = frozenset(
    {
        "sdk",
        "games",
        "sources",
        "executor",
        "db",
        "jobs",
        "events",
        "settings",
        "kube_syntax",
        "endpoints",
        "metrics",
    }
)

Graph = Mapping[str, Mapping[str, list[str]]]


def package_imports(root: Path = SOURCE) -> dict[str, dict[str, list[str]]]:
    """For each top-level package or module: the others it imports, with the files that do."""
    graph: dict[str, dict[str, list[str]]] = {}
    for path in sorted(root.rglob("*.py")):
        relative = path.relative_to(root)
        source = relative.parts[0].removesuffix(".py")
        targets = graph.setdefault(source, {})
        for module in _imported_modules(path):
            parts = module.split(".")
            if parts[0] != "botarena" or len(parts) < 2 or parts[1] == source:
                continue
            targets.setdefault(parts[1], []).append(str(relative))
    return graph


def _imported_modules(path: Path) -> Iterable[str]:
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            yield node.module
            yield from (f"{node.module}.{alias.name}" for alias in node.names)
        elif isinstance(node, ast.Import):
            yield from (alias.name for alias in node.names)


def rank(package: str) -> int | None:
    """The stage's place on the data path; None for the foundation and the composition."""
    for index, stage in enumerate(STAGES):
        if package in stage:
            return index
    return None


def violations(graph: Graph) -> list[str]:
    """Every import against the stage order, named with the file that makes it."""
    found = []
    for source, targets in graph.items():
        for target, files in targets.items():
            why = _forbidden(source, target)
            if why:
                found.append(f"{source} → {target} ({why}): {', '.join(sorted(set(files)))}")
    return found


def _forbidden(source: str, target: str) -> str | None:
    if source in COMPOSITION:
        return None
    if target in COMPOSITION:
        return "nothing imports the composition root"
    if source in BELOW_THE_WEB and target == "api":
        return "below the web layer"
    source_rank, target_rank = rank(source), rank(target)
    if target_rank is None:
        return None
    if source_rank is None:
        return "the foundation imports no stage"
    if target_rank >= source_rank:
        return "a stage imports only earlier stages"
    return None


def cycles(graph: Graph) -> list[list[str]]:
    """The groups of packages that reach each other (Tarjan's strongly connected components)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    groups: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for successor in graph.get(node, {}):
            if successor not in index:
                visit(successor)
                low[node] = min(low[node], low[successor])
            elif successor in on_stack:
                low[node] = min(low[node], index[successor])
        if low[node] == index[node]:
            group = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                group.append(member)
                if member == node:
                    break
            if len(group) > 1:
                groups.append(sorted(group))

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return groups


def test_every_import_keeps_the_stage_order() -> None:
    graph = package_imports()
    assert {"agents", "builds", "matches", "ratings", "executor"} <= set(graph)
    assert violations(graph) == []


def test_no_two_packages_import_each_other() -> None:
    assert cycles(package_imports()) == []


def test_matches_imports_nothing_from_ratings() -> None:
    assert "ratings" not in package_imports()["matches"]


def test_every_top_level_package_has_a_place() -> None:
    """A new package must be put somewhere on purpose: a stage, or the foundation below."""
    foundation = set(package_imports()) - COMPOSITION - set().union(*STAGES)
    known_foundation = {
        "api",
        "clock",
        "client",
        "closing",
        "db",
        "endpoints",
        "errors",
        "events",
        "executor",
        "games",
        "ids",
        "jobs",
        "kube_syntax",
        "logging",
        "metrics",
        "sdk",
        "settings",
        "sources",
        "storage",
        "workers",
        "__init__",
    }
    assert foundation <= known_foundation, foundation - known_foundation


@pytest.mark.parametrize(
    ("graph", "expected"),
    [
        ({"matches": {"ratings": ["matches/queue.py"]}}, "matches → ratings"),
        ({"executor": {"builds": ["executor/x.py"]}}, "executor → builds"),
        ({"ladder": {"tournaments": ["ladder/x.py"]}}, "ladder → tournaments"),
        ({"db": {"models": ["db/migrations/env.py"]}}, "db → models"),
        ({"jobs": {"api": ["jobs/x.py"]}}, "jobs → api"),
    ],
)
def test_the_rules_catch_a_backward_import(graph: Graph, expected: str) -> None:
    assert [v.split(" (")[0] for v in violations(graph)] == [expected]


def test_the_cycle_finder_finds_a_cycle_through_three_packages() -> None:
    graph = {"a": {"b": []}, "b": {"c": []}, "c": {"a": []}, "d": {"a": []}}
    assert cycles(graph) == [["a", "b", "c"]]
