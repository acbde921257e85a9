"""Control groups on the unified cgroup v2 hierarchy, by the kernel's documented interface.

One folder holds every controller. Controllers must be switched on for a folder's children in
its ``cgroup.subtree_control``, and the kernel allows that only where no process sits in the
folder itself (except at the root): that is why detection checks our own cgroup can do it.
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
from botarena.executor.sandbox.limits import Limits

REQUIRED = ("memory", "pids", "cpu")
ENABLE = " ".join(f"+{controller}" for controller in REQUIRED)
CPU_PERIOD_US = 100_000


@dataclass(frozen=True)
class CgroupV2:
    """A driver making agent cgroups under ``parent`` (our ``botarena`` folder)."""

    parent: Path

    @property
    def kind(self) -> str:
        return "v2"

    def create(self, name: str, limits: Limits) -> CgroupV2Group:
        check_name(name)
        self.parent.mkdir(parents=True, exist_ok=True)
        # Our parent folder holds no process, so its children may get the controllers.
        write_value(self.parent / "cgroup.subtree_control", ENABLE)
        group = CgroupV2Group(make_leaf(self.parent, name))
        try:
            group.apply(limits)
        except BaseException:
            discard(group)
            raise
        return group


@dataclass(frozen=True)
class CgroupV2Group:
    folder: Path

    @property
    def procs_files(self) -> tuple[Path, ...]:
        return (self.folder / "cgroup.procs",)

    def apply(self, limits: Limits) -> None:
        write_value(self.folder / "memory.max", str(limits.memory_bytes))
        # Absent without swap accounting, where there is no swap to dodge the limit with.
        write_optional(self.folder / "memory.swap.max", "0")
        write_value(self.folder / "pids.max", str(limits.pids + SUPERVISORS))
        quota = round(limits.cpu_cores * CPU_PERIOD_US)
        write_value(self.folder / "cpu.max", f"{quota} {CPU_PERIOD_US}")

    def pids(self) -> set[int]:
        return read_pids(self.procs_files)

    def kill_all(self, timeout: float = KILL_TIMEOUT) -> bool:
        # cgroup.kill (Linux 5.14) kills the whole tree at once, forks in flight included;
        # the loop then waits for the list to empty, or does the job on older kernels.
        kill_file = self.folder / "cgroup.kill"
        if kill_file.exists():
            write_optional(kill_file, "1")
        return kill_listed(self.procs_files, timeout)

    def oom_killed(self) -> bool:
        return (read_keyed(self.folder / "memory.events", "oom_kill") or 0) > 0

    def process_limit_hit(self) -> bool:
        return (read_keyed(self.folder / "pids.events", "max") or 0) > 0

    def memory_peak_bytes(self) -> int | None:
        return read_int(self.folder / "memory.peak")

    def cpu_seconds(self) -> float | None:
        microseconds = read_keyed(self.folder / "cpu.stat", "usage_usec")
        return None if microseconds is None else microseconds / 1e6

    def remove(self) -> None:
        self.kill_all()
        remove_folder(self.folder)
        remove_parent_if_empty(self.folder.parent)


def find_v2(root: Path, own_path: str | None) -> CgroupV2 | None:
    """The v2 driver when ``root`` is a v2 hierarchy offering memory, pids and cpu to us."""
    if not _offers_controllers(root):
        return None
    candidates = [root / own_path.lstrip("/")] if own_path else []
    for home in [*candidates, root]:
        if _offers_controllers(home) and os.access(home, os.W_OK) and _can_delegate(home):
            return CgroupV2(home / PARENT_NAME)
    return None


def _offers_controllers(folder: Path) -> bool:
    available = (read_text(folder / "cgroup.controllers") or "").split()
    return all(controller in available for controller in REQUIRED)


def _can_delegate(folder: Path) -> bool:
    """Whether the controllers are, or can be, enabled for this folder's children."""
    enabled = (read_text(folder / "cgroup.subtree_control") or "").split()
    if all(controller in enabled for controller in REQUIRED):
        return True
    # The kernel refuses (EBUSY) where processes sit in a non-root folder.
    return write_optional(folder / "cgroup.subtree_control", ENABLE)
