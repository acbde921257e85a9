"""What the fork-server tests share: a runner that records the agent processes it starts, and
ways to see a sandbox's processes and cgroups from the host."""

from __future__ import annotations

import os
from pathlib import Path

from botarena.executor.agent_process import AgentProcess
from botarena.executor.forkserver import ForkedAgent, Zygote
from botarena.executor.prepare import PreparedAgent
from botarena.executor.runners.local import LocalRunner
from botarena.executor.sandbox import Cgroup, CgroupDriver, Limits
from botarena.executor.sandbox.limits import MIB

LIMITS = Limits(memory_bytes=128 * MIB, pids=32, tmp_bytes=8 * MIB)


class RecordingRunner:
    """The fork-server runner, noting every agent process it started, in order."""

    def __init__(self, runner: LocalRunner) -> None:
        self.runner = runner
        self.processes: list[AgentProcess] = []

    @property
    def isolation(self) -> str:
        return self.runner.isolation

    @property
    def sandboxed(self) -> bool:
        return self.runner.sandboxed

    @property
    def started_zygotes(self) -> int:
        assert self.runner.pool is not None
        return self.runner.pool.started

    def start(self, agent: PreparedAgent, *, name: str) -> AgentProcess:
        process = self.runner.start(agent, name=name)
        self.processes.append(process)
        return process

    def forked(self) -> list[ForkedAgent]:
        found = [p for p in self.processes if isinstance(p, ForkedAgent)]
        assert len(found) == len(self.processes), "every Python agent must be forked"
        return found


def zygote_pid(zygote: Zygote) -> int:
    """The zygote's host pid: its own pids are bubblewrap's and its own."""
    (pid,) = zygote.own_pids - {zygote.process.pid}
    return pid


def sandbox_members(pid: int) -> set[int]:
    """Host pids of every process in the same pid namespace as ``pid``."""
    try:
        namespace = os.readlink(f"/proc/{pid}/ns/pid")
    except OSError:
        return set()
    members = set()
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                if os.readlink(entry / "ns" / "pid") == namespace:
                    members.add(int(entry.name))
            except OSError:
                continue
    return members


def sandbox_processes() -> set[int]:
    """Our live descendants that belong to a sandbox: bubblewrap, zygotes, agents.

    Only descendants: other work on this machine may run sandboxes of its own meanwhile. A
    sandbox process that left our tree cannot hide either: it would keep its cgroup, which
    :class:`CgroupRecorder` sees.
    """
    parents: dict[int, int] = {}
    commands: dict[int, bytes] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
            commands[int(entry.name)] = (entry / "cmdline").read_bytes()
        except (OSError, IndexError):
            continue
        if fields[0] not in {"Z", "X"}:
            parents[int(entry.name)] = int(fields[1])
    return {
        pid
        for pid, cmdline in commands.items()
        if _is_sandbox(cmdline) and _descends_from(pid, os.getpid(), parents)
    }


def _is_sandbox(cmdline: bytes) -> bool:
    return b"botarena.sdk" in cmdline or cmdline.startswith(b"bwrap") or b"/bwrap\0" in cmdline


def _descends_from(pid: int, ancestor: int, parents: dict[int, int]) -> bool:
    seen = set()
    while pid in parents and pid not in seen:
        seen.add(pid)
        pid = parents[pid]
        if pid == ancestor:
            return True
    return False


class CgroupRecorder:
    """A cgroup driver that notes the folders of every cgroup it makes, to check they go.

    Only ours: other work on this machine may make cgroups beside them meanwhile.
    """

    def __init__(self, driver: CgroupDriver) -> None:
        self.driver = driver
        self.folders: set[Path] = set()

    @property
    def kind(self) -> str:
        return self.driver.kind

    def create(self, name: str, limits: Limits) -> Cgroup:
        group = self.driver.create(name, limits)
        self.folders.update(path.parent for path in group.procs_files)
        return group

    def left(self) -> list[str]:
        return sorted(str(folder) for folder in self.folders if folder.exists())
