"""Per-process resource limits (rlimits) for a sandboxed program, set just before it starts.

They are lowered only, soft and hard together so the program cannot raise them back, and
never above the hard limit we ourselves have (root without CAP_SYS_RESOURCE cannot raise
one). No address-space limit: it breaks runtimes that reserve large virtual areas (Go, the
JVM, V8) without using them; memory is the memory cgroup's job.
"""

from __future__ import annotations

import os
import resource
from pathlib import Path

from botarena.executor.sandbox.limits import Limits

Plan = tuple[tuple[int, int], ...]


def rlimit_plan(limits: Limits, *, uid: int | None = None) -> Plan:
    """``(resource, value)`` pairs to apply; computed in the parent, applied in the child."""
    plan = [
        (resource.RLIMIT_FSIZE, limits.file_size_bytes),
        (resource.RLIMIT_NOFILE, limits.open_files),
        (resource.RLIMIT_CORE, limits.core_bytes),
    ]
    if limits.stack_bytes is not None:
        plan.append((resource.RLIMIT_STACK, limits.stack_bytes))
    uid = os.geteuid() if uid is None else uid
    # RLIMIT_NPROC does not bind root. For anyone else it counts every task of the user, not
    # just the agent's, so the agent's allowance comes on top of what the user already runs.
    if uid != 0:
        plan.append((resource.RLIMIT_NPROC, count_tasks(uid) + limits.pids))
    return tuple(plan)


def lower_rlimits(plan: Plan) -> None:
    """Apply a plan; safe between fork and exec (no allocation-heavy work, no imports)."""
    for kind, value in plan:
        _, hard = resource.getrlimit(kind)
        if hard != resource.RLIM_INFINITY:
            value = min(value, hard)
        resource.setrlimit(kind, (value, value))


def count_tasks(uid: int, proc: Path = Path("/proc")) -> int:
    """Processes and threads owned by ``uid`` now (what RLIMIT_NPROC counts)."""
    total = 0
    for entry in proc.iterdir():
        if not entry.name.isdigit():
            continue
        try:
            if entry.stat().st_uid == uid:
                total += len(os.listdir(entry / "task"))
        except OSError:
            continue  # it ended while we looked
    return total
