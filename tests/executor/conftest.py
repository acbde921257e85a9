"""Fixtures for match tests: the real sandboxed runner, agent folders, and leak checks."""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from botarena.executor.prepare import PreparedAgent, prepare_agent
from botarena.executor.runners.local import LocalRunner
from botarena.executor.sandbox import Limits, detect_cgroup_driver
from botarena.executor.sandbox.limits import MIB

from support.services import require_sandbox

IN_CI = os.environ.get("CI") == "true"
EXAMPLES = Path(__file__).resolve().parents[2] / "examples" / "agents"


@pytest.fixture(params=[False, True], ids=["fresh-sandbox", "fork-server"])
def sandbox_runner(request: pytest.FixtureRequest) -> Iterator[LocalRunner]:
    """The local runner with the real sandbox and tight limits, with and without the fork
    server; fails under CI if the sandbox is unavailable."""
    require_sandbox(cgroups=True)
    limits = Limits(memory_bytes=128 * MIB, pids=32, tmp_bytes=8 * MIB)
    with LocalRunner(limits, fork_server=request.param) as runner:
        yield runner


MakeAgent = Callable[[str, str], PreparedAgent]


@pytest.fixture
def make_agent(tmp_path: Path) -> MakeAgent:
    """``make_agent(name, main_py_source)``: a prepared agent folder holding that main.py."""

    def make(name: str, source: str) -> PreparedAgent:
        folder = tmp_path / "agents" / name
        folder.mkdir(parents=True)
        (folder / "main.py").write_text(source)
        return prepare_agent(folder, tmp_path / "cache")

    return make


def sandbox_processes() -> set[int]:
    """Processes on this machine that belong to a sandboxed agent (bwrap or the agent shim)."""
    found = set()
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            cmdline = (entry / "cmdline").read_bytes()
        except OSError:
            continue
        if b"botarena.sdk" in cmdline or cmdline.startswith(b"bwrap") or b"/bwrap\0" in cmdline:
            found.add(int(entry.name))
    return found


@pytest.fixture
def no_leftovers() -> Iterator[None]:
    """After the test: no sandboxed process alive and no cgroup of ours left."""
    before = sandbox_processes()
    yield
    leaked = sandbox_processes() - before
    assert not leaked, f"sandboxed processes left running: {sorted(leaked)}"
    driver = detect_cgroup_driver()
    for parent in getattr(driver, "parents", {}).values():
        children = [p.name for p in parent.iterdir() if p.is_dir()] if parent.exists() else []
        assert not children, f"cgroups left behind under {parent}: {children}"
