"""Control groups on a cgroup v1 hierarchy: one folder per controller (memory, pids, cpu).

Each controller is its own mount (``/sys/fs/cgroup/memory`` and so on), and our process may
sit at a different depth in each, so an agent's cgroup is a set of folders, one per
hierarchy, all named alike. ``cpuacct`` is used for CPU accounting when it is mounted.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from botarena.executor.sandbox.cgroup_base import (
    KILL_TIMEOUT,
    PARENT_NAME,
    SUPERVISORS,
    check_name,
    discard,
    kill_listed,
    make_leaf,
    read_int,
    read_keyed,
    read_pids,
    read_text,
    remove_folder,
    remove_parent_if_empty,
    write_optional,
    write_value,
)
from botarena.executor.sandbox.errors import CgroupError
from botarena.executor.sandbox.limits import Limits

REQUIRED = ("memory", "pids", "cpu")
OPTIONAL = ("cpuacct",)
CFS_PERIOD_US = 100_000
# A kernel without the oom_kill counter: a peak within this much of the limit means it was hit.
_NEAR_LIMIT = 1024 * 1024


@dataclass(frozen=True)
class CgroupV1:
    """A driver over v1 hierarchies; ``parents`` maps each controller to our parent folder."""

    parents: dict[str, Path]

    @property
    def kind(self) -> str:
        return "v1"

    def create(self, name: str, limits: Limits) -> CgroupV1Group:
        check_name(name)
        leaves: dict[str, Path] = {}
        try:
            for controller, parent in self.parents.items():
                # Co-mounted controllers (cpu,cpuacct) share one folder.
                existing = next((leaf for leaf in leaves.values() if leaf.parent == parent), None)
                if existing is None:
                    if controller == "memory":
                        _inherit_hierarchy(parent)
                    existing = make_leaf(parent, name)
                leaves[controller] = existing
            group = CgroupV1Group(leaves, limits.memory_bytes)
            group.apply(limits)
        except BaseException:
            discard(CgroupV1Group(leaves, limits.memory_bytes))
            raise
        return group


@dataclass(frozen=True)
class CgroupV1Group:
    leaves: dict[str, Path]
    memory_limit: int

    @property
    def procs_files(self) -> tuple[Path, ...]:
        return tuple(leaf / "cgroup.procs" for leaf in self._folders())

    def apply(self, limits: Limits) -> None:
        memory = self.leaves["memory"]
        write_value(memory / "memory.limit_in_bytes", str(limits.memory_bytes))
        # With swap accounting, the same cap on memory+swap stops swap being a way round it.
        if (memory / "memory.memsw.limit_in_bytes").exists():
            write_value(memory / "memory.memsw.limit_in_bytes", str(limits.memory_bytes))
        write_value(self.leaves["pids"] / "pids.max", str(limits.pids + SUPERVISORS))
        cpu = self.leaves["cpu"]
        write_value(cpu / "cpu.cfs_period_us", str(CFS_PERIOD_US))
        write_value(cpu / "cpu.cfs_quota_us", str(round(limits.cpu_cores * CFS_PERIOD_US)))

    def pids(self) -> set[int]:
        return read_pids(self.procs_files)

    def kill_all(self, timeout: float = KILL_TIMEOUT) -> bool:
        # v1 has no cgroup.kill; the loop converges because the pids controller caps forks.
        return kill_listed(self.procs_files, timeout)

    def oom_killed(self) -> bool:
        memory = self.leaves["memory"]
        kills = read_keyed(memory / "memory.oom_control", "oom_kill")
        if kills is not None:
            return kills > 0
        # Kernels before 4.13 have no counter: fall back on the limit having been reached.
        # The caller only believes it together with a death by SIGKILL.
        failures = read_int(memory / "memory.failcnt") or 0
        peak = read_int(memory / "memory.max_usage_in_bytes") or 0
        return failures > 0 or peak >= self.memory_limit - _NEAR_LIMIT

    def process_limit_hit(self) -> bool:
        return (read_keyed(self.leaves["pids"] / "pids.events", "max") or 0) > 0

    def memory_peak_bytes(self) -> int | None:
        return read_int(self.leaves["memory"] / "memory.max_usage_in_bytes")

    def cpu_seconds(self) -> float | None:
        folder = self.leaves.get("cpuacct", self.leaves["cpu"])
        nanoseconds = read_int(folder / "cpuacct.usage")
        return None if nanoseconds is None else nanoseconds / 1e9

    def remove(self) -> None:
        self.kill_all()
        problems: list[str] = []
        for folder in self._folders():
            try:
                remove_folder(folder)
            except CgroupError as exc:
                problems.append(str(exc))
            else:
                remove_parent_if_empty(folder.parent)
        if problems:
            raise CgroupError("; ".join(problems))

    def _folders(self) -> list[Path]:
        return list(dict.fromkeys(self.leaves.values()))


def _inherit_hierarchy(parent: Path) -> None:
    """Make limits apply to the whole subtree on old kernels where that was optional.

    Only settable while the folder has no children, so it is set when our parent is new.
    Newer kernels always use the hierarchy and ignore or refuse the write.
    """
    above = (read_text(parent.parent / "memory.use_hierarchy") or "").strip()
    if above == "0" and not parent.exists():
        parent.mkdir(parents=True, exist_ok=True)
        write_optional(parent / "memory.use_hierarchy", "1")


def find_v1(root: Path, own_paths: dict[str, str]) -> CgroupV1 | None:
    """The v1 driver when the required controllers are mounted under ``root`` and writable."""
    parents: dict[str, Path] = {}
    for controller in REQUIRED + OPTIONAL:
        mount = root / controller
        if not (mount / "cgroup.procs").is_file():
            if controller in REQUIRED:
                return None
            continue
        home = _writable_home(mount.resolve(), own_paths.get(controller, "/"))
        if home is None:
            if controller in REQUIRED:
                return None
            continue
        parents[controller] = home / PARENT_NAME
    return CgroupV1(parents)


def _writable_home(mount: Path, own_path: str) -> Path | None:
    """Our own cgroup in this hierarchy, else the hierarchy's root; it must be writable."""
    for candidate in (mount / own_path.lstrip("/"), mount):
        if (candidate / "cgroup.procs").is_file() and os.access(candidate, os.W_OK):
            return candidate
    return None
