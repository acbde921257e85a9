"""What a cgroup driver offers the sandbox, and the file chores both cgroup versions share.

A driver makes one control group per agent process. The process joins it itself, between
``fork`` and ``exec``, by writing its pid into every file of :attr:`Cgroup.procs_files`, so
that not even its first instruction runs outside the limits.
"""

from __future__ import annotations

import contextlib
import errno
import os
import re
import signal
import time
from collections.abc import Iterable
from pathlib import Path
from typing import Protocol

from botarena.executor.sandbox.errors import CgroupError
from botarena.executor.sandbox.limits import Limits

# Our folders sit under this one, inside the cgroup our own process is in.
PARENT_NAME = "botarena"
KILL_TIMEOUT = 2.0
REMOVE_TIMEOUT = 2.0
# The sandbox's own processes in every agent cgroup: bubblewrap outside and its init inside.
SUPERVISORS = 2
_POLL_INTERVAL = 0.01
_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,99}")


class Cgroup(Protocol):
    """One agent's control group (one folder per controller hierarchy under cgroup v1)."""

    @property
    def procs_files(self) -> tuple[Path, ...]:
        """The ``cgroup.procs`` files a new process writes its pid into, to join."""
        ...

    def pids(self) -> set[int]:
        """Host pids of the processes in it now."""
        ...

    def kill_all(self, timeout: float = KILL_TIMEOUT) -> bool:
        """SIGKILL everything in it; ``True`` once it is empty, ``False`` after ``timeout``."""
        ...

    def oom_killed(self) -> bool:
        """Whether the kernel killed a process of it for exceeding the memory limit."""
        ...

    def process_limit_hit(self) -> bool:
        """Whether a fork was refused for the process limit (``pids.events``' ``max``)."""
        ...

    def memory_peak_bytes(self) -> int | None:
        """The highest memory use, where the kernel reports it."""
        ...

    def cpu_seconds(self) -> float | None:
        """CPU time used by its processes so far, where the kernel reports it."""
        ...

    def remove(self) -> None:
        """Kill what is left and delete its folders; raises :class:`CgroupError` if it cannot."""
        ...


class CgroupDriver(Protocol):
    """Makes control groups on this machine's cgroup hierarchy."""

    @property
    def kind(self) -> str:
        """``"v1"`` or ``"v2"``."""
        ...

    def create(self, name: str, limits: Limits) -> Cgroup:
        """A new cgroup with ``limits`` applied; ``name`` must be unique among live ones."""
        ...


def check_name(name: str) -> str:
    """A cgroup name becomes a folder name: refuse anything that could climb out of ours."""
    if not _NAME.fullmatch(name) or name in {".", ".."}:
        raise CgroupError(f"{name!r} is not a usable cgroup name (letters, digits, '_', '.', '-')")
    return name


def write_value(path: Path, value: str) -> None:
    try:
        path.write_text(value)
    except OSError as exc:
        raise CgroupError(f"cannot write {value!r} to {path}: {exc.strerror or exc}") from exc


def write_optional(path: Path, value: str) -> bool:
    """Write an interface file that some kernels lack; ``False`` when it is not there."""
    try:
        path.write_text(value)
    except OSError:
        return False
    return True


def read_text(path: Path) -> str | None:
    try:
        return path.read_text()
    except OSError:
        return None


def read_int(path: Path) -> int | None:
    text = read_text(path)
    if text is None:
        return None
    try:
        return int(text.split()[0])
    except (ValueError, IndexError):
        return None


def read_keyed(path: Path, key: str) -> int | None:
    """The number after ``key`` in a flat-keyed file such as ``memory.events``."""
    for line in (read_text(path) or "").splitlines():
        fields = line.split()
        if len(fields) == 2 and fields[0] == key and fields[1].isdigit():
            return int(fields[1])
    return None


def read_pids(procs_files: Iterable[Path]) -> set[int]:
    pids: set[int] = set()
    for path in procs_files:
        pids.update(int(word) for word in (read_text(path) or "").split() if word.isdigit())
    return pids


def make_leaf(parent: Path, name: str) -> Path:
    """Create ``parent/<name>.p<our pid>``; a leftover empty folder of a crashed run is replaced.

    The creator's pid in the folder's name lets every later creation sweep away the empty
    cgroups of processes that died without cleaning up (a server killed mid-build). A
    leftover is removed rather than reused: its counters (OOM kills, peak memory) would
    otherwise be read as this run's.
    """
    sweep_orphans(parent)
    leaf = parent / f"{name}.p{os.getpid()}"
    for _ in range(3):
        try:
            parent.mkdir(parents=True, exist_ok=True)
            leaf.mkdir()
            return leaf
        except FileExistsError:
            if read_pids([leaf / "cgroup.procs"]):
                raise CgroupError(f"cgroup {leaf} already exists and has processes") from None
            remove_folder(leaf)
        except FileNotFoundError:
            # Another sandbox's clean-up removed the empty parent between our two mkdirs.
            continue
        except OSError as exc:
            raise CgroupError(f"cannot create cgroup {leaf}: {exc.strerror or exc}") from exc
    raise CgroupError(f"cannot create cgroup {leaf}: it keeps changing under us")


def signal_all(pids: Iterable[int]) -> bool:
    """SIGKILL each pid; ``True`` if any of them still existed."""
    alive = False
    for pid in pids:
        try:
            os.kill(pid, signal.SIGKILL)
        except ProcessLookupError:
            continue
        alive = True
    return alive


def kill_listed(procs_files: tuple[Path, ...], timeout: float) -> bool:
    """SIGKILL whatever the cgroup lists until it lists nothing alive; ``True`` when it did.

    Repeating matters: a process may fork between our reading the list and the signal. The
    list cannot grow for long, because the sandbox's pid namespace dies with its first
    process (bubblewrap's init), and that one is listed too.
    """
    deadline = time.monotonic() + timeout
    while True:
        if not signal_all(read_pids(procs_files)):
            return True
        if time.monotonic() >= deadline:
            return False
        time.sleep(_POLL_INTERVAL)


def remove_folder(folder: Path, timeout: float = REMOVE_TIMEOUT) -> None:
    """rmdir a cgroup folder, retrying while the kernel still counts exiting processes in it."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            folder.rmdir()
            return
        except FileNotFoundError:
            return
        except OSError as exc:
            if exc.errno != errno.EBUSY or time.monotonic() >= deadline:
                raise CgroupError(f"cannot remove cgroup {folder}: {exc.strerror or exc}") from exc
        signal_all(read_pids([folder / "cgroup.procs"]))
        time.sleep(_POLL_INTERVAL)


def remove_parent_if_empty(parent: Path) -> None:
    """Tidy our shared parent folder; another sandbox still using it makes this a no-op."""
    with contextlib.suppress(OSError):
        parent.rmdir()


def discard(group: Cgroup) -> None:
    """Remove a half-made cgroup while another error is on its way up; that error matters more."""
    with contextlib.suppress(CgroupError):
        group.remove()


def sweep_orphans(parent: Path) -> int:
    """Remove the empty cgroups under ``parent`` whose creating process is gone."""
    removed = 0
    try:
        children = list(parent.iterdir())
    except OSError:
        return 0
    for child in children:
        owner = _ORPHAN_SUFFIX.search(child.name)
        if owner is None or _alive(int(owner.group(1))) or not child.is_dir():
            continue
        if read_pids([child / "cgroup.procs"]):
            continue
        try:
            remove_folder(child)
            removed += 1
        except (OSError, CgroupError):
            continue  # a busy or vanished folder: the next sweep sees it again
    return removed


_ORPHAN_SUFFIX = re.compile(r"\.p(\d+)$")


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True
