"""Fixtures for the sandbox tests: real sandboxed agents, and proof that nothing outlives them.

``start_agent(program, limits)`` runs a small Python program in a real sandbox (bubblewrap,
cgroups) with its own folder bound read-only at ``/agent``. Every agent is closed at the end
of the test, and then the test fails if any process seen in its cgroup (or bubblewrap
itself) is still alive, if a cgroup folder is left, or if the agent folder changed.

Tests that need bubblewrap or cgroups skip where they are missing, and fail under
``CI=true``, where the run must prove the sandbox for real.
"""

from __future__ import annotations

import json
import os
import select
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from botarena.executor.sandbox import (
    CgroupDriver,
    IsolationReport,
    Limits,
    SandboxedProcess,
    SandboxSpec,
    detect_cgroup_driver,
    probe_isolation,
    python_runtime_binds,
    real_python,
    spawn,
)

from support.services import require_service

IN_CI = os.environ.get("CI") == "true"
GONE_TIMEOUT = 3.0
LINE_TIMEOUT = 10.0


@pytest.fixture(scope="session")
def isolation() -> IsolationReport:
    return probe_isolation()


@pytest.fixture
def bwrap_ready(isolation: IsolationReport) -> None:
    if not isolation.bwrap:
        require_service("bubblewrap", isolation.describe())


@pytest.fixture
def cgroup_driver(isolation: IsolationReport, bwrap_ready: None) -> CgroupDriver:
    driver = detect_cgroup_driver() if isolation.cgroups else None
    if driver is None:
        require_service(
            "cgroups", "no writable cgroup hierarchy with memory, pids and cpu controllers"
        )
    assert driver is not None
    return driver


def start_time(pid: int) -> str | None:
    """The kernel's start time of a living ``pid``, which tells a process from a later one
    reusing the number; ``None`` once it is dead.

    A zombie counts as dead: it runs nothing and holds nothing but its number. bubblewrap's
    init becomes one when bubblewrap exits first, and the host's init reaps it in its own time.
    """
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    fields = stat.rsplit(")", 1)[1].split()
    return None if fields[0] in {"Z", "X"} else fields[19]


def folder_listing(folder: Path) -> dict[str, int]:
    return {str(path.relative_to(folder)): path.stat().st_size for path in folder.rglob("*")}


class Tracker:
    """Everything a test's sandboxes touched, checked once they are closed."""

    def __init__(self) -> None:
        self.processes: list[SandboxedProcess] = []
        self.seen: dict[int, str] = {}
        self.folders: set[Path] = set()
        self.agent_dirs: dict[Path, dict[str, int]] = {}

    def add(self, process: SandboxedProcess, agent_dir: Path) -> None:
        self.processes.append(process)
        self.agent_dirs[agent_dir] = folder_listing(agent_dir)
        if process.cgroup is not None:
            self.folders.update(path.parent for path in process.cgroup.procs_files)
        self.snapshot(process)

    def snapshot(self, process: SandboxedProcess) -> set[int]:
        """Note the live processes of a sandbox (bubblewrap and all in its cgroup)."""
        pids = {process.pid}
        if process.cgroup is not None and process.returncode is None:
            pids |= process.cgroup.pids()
        for pid in pids:
            started = start_time(pid)
            if started is not None:
                self.seen.setdefault(pid, started)
        return pids

    def close_and_check(self) -> None:
        for process in self.processes:
            self.snapshot(process)
            process.close()
            assert process.returncode is not None, "close() must reap bubblewrap"
        deadline = time.monotonic() + GONE_TIMEOUT
        alive = self._alive()
        while alive and time.monotonic() < deadline:
            time.sleep(0.02)
            alive = self._alive()
        assert not alive, f"sandbox processes outlived close(): {sorted(alive)}"
        left = sorted(str(folder) for folder in self.folders if folder.exists())
        assert not left, f"cgroup folders left behind: {left}"
        for folder, before in self.agent_dirs.items():
            assert folder_listing(folder) == before, f"the agent changed {folder}"

    def _alive(self) -> set[int]:
        return self.alive(set(self.seen))

    def alive(self, pids: set[int]) -> set[int]:
        """Those of ``pids`` that are still the processes we saw (not a reused number)."""
        return {pid for pid in pids if pid in self.seen and start_time(pid) == self.seen[pid]}


@pytest.fixture
def tracker() -> Iterator[Tracker]:
    tracked = Tracker()
    try:
        yield tracked
    finally:
        tracked.close_and_check()


def agent_spec(agent_dir: Path, *args: str, syscall_filter: bool = True) -> SandboxSpec:
    return SandboxSpec(
        command=[str(real_python()), "/agent/agent.py", *args],
        ro_binds=[*python_runtime_binds(), (agent_dir, "/agent")],
        cwd="/agent",
        syscall_filter=syscall_filter,
    )


@pytest.fixture
def start_agent(
    tmp_path: Path, cgroup_driver: CgroupDriver, tracker: Tracker
) -> Callable[..., SandboxedProcess]:
    """``start_agent(program, limits=Limits(), args=(), syscall_filter=True)``: the program in a
    real sandbox (without the syscall filter only to show what the filter stops)."""
    count = 0

    def start(
        program: str,
        limits: Limits | None = None,
        args: tuple[str, ...] = (),
        *,
        syscall_filter: bool = True,
    ) -> SandboxedProcess:
        nonlocal count
        count += 1
        agent_dir = tmp_path / f"agent-{count}"
        agent_dir.mkdir()
        (agent_dir / "agent.py").write_text(program)
        name = f"test-{os.getpid()}-{tmp_path.name}-{count}"
        spec = agent_spec(agent_dir, *args, syscall_filter=syscall_filter)
        process = spawn(spec, limits or Limits(), name=name, driver=cgroup_driver)
        tracker.add(process, agent_dir)
        return process

    return start


def read_line_from(process: SandboxedProcess, timeout: float = LINE_TIMEOUT) -> bytes:
    """One line of the agent's stdout, failing the test rather than hanging."""
    ready, _, _ = select.select([process.stdout], [], [], timeout)
    if not ready:
        pytest.fail(f"no output within {timeout} s; stderr: {stderr_of(process)!r}")
    return process.stdout.readline()


def stderr_of(process: SandboxedProcess) -> bytes:
    ready, _, _ = select.select([process.stderr], [], [], 0)
    return os.read(process.stderr.fileno(), 65536) if ready else b""


@pytest.fixture
def read_json(tracker: Tracker) -> Callable[..., dict[str, Any]]:
    """``read_json(process, timeout=10)``: the next JSON line the agent prints."""

    def read(process: SandboxedProcess, timeout: float = LINE_TIMEOUT) -> dict[str, Any]:
        line = read_line_from(process, timeout)
        tracker.snapshot(process)
        if not line:
            pytest.fail(f"the agent ended ({process.exit_reason()}): {stderr_of(process)!r}")
        value: dict[str, Any] = json.loads(line)
        return value

    return read


@pytest.fixture
def read_line(tracker: Tracker) -> Callable[..., bytes]:
    """``read_line(process, timeout=10)``: the next line the agent prints, as bytes."""

    def read(process: SandboxedProcess, timeout: float = LINE_TIMEOUT) -> bytes:
        line = read_line_from(process, timeout)
        tracker.snapshot(process)
        return line

    return read


@pytest.fixture
def snapshot(tracker: Tracker) -> Callable[[SandboxedProcess], set[int]]:
    """``snapshot(process)``: the host pids of the sandbox now, all checked at the end."""
    return tracker.snapshot


@pytest.fixture
def still_alive(tracker: Tracker) -> Callable[[set[int]], set[int]]:
    """``still_alive(pids)``: which of the snapshot pids still run."""
    return tracker.alive
