"""Find this machine's cgroup hierarchy and the driver that makes agent cgroups on it.

cgroup v2 is used when its hierarchy offers the memory, pids and cpu controllers to our own
cgroup; otherwise cgroup v1 when those controllers are mounted and writable (the "hybrid"
layout keeps them on v1 even though a controller-less v2 mount exists). Without either, for
instance as an ordinary user on a laptop, there is no driver and only rlimits apply.
"""

from __future__ import annotations

from pathlib import Path

from botarena.executor.sandbox.cgroup_base import Cgroup, CgroupDriver
from botarena.executor.sandbox.cgroup_v1 import CgroupV1, CgroupV1Group, find_v1
from botarena.executor.sandbox.cgroup_v2 import CgroupV2, CgroupV2Group, find_v2

__all__ = [
    "Cgroup",
    "CgroupDriver",
    "CgroupV1",
    "CgroupV1Group",
    "CgroupV2",
    "CgroupV2Group",
    "detect_cgroup_driver",
    "own_cgroup_paths",
]

CGROUP_ROOT = Path("/sys/fs/cgroup")
SELF_CGROUP = Path("/proc/self/cgroup")


def detect_cgroup_driver(
    root: Path = CGROUP_ROOT, *, self_cgroup: Path = SELF_CGROUP
) -> CgroupDriver | None:
    """The driver for the hierarchy mounted at ``root``, or ``None`` when it is unusable."""
    own = own_cgroup_paths(self_cgroup)
    if (root / "cgroup.controllers").is_file():
        return find_v2(root, own.get(""))
    return find_v1(root, own)


def own_cgroup_paths(self_cgroup: Path = SELF_CGROUP) -> dict[str, str]:
    """Our cgroup per controller from ``/proc/self/cgroup``; the key ``""`` is the v2 one.

    Lines read ``hierarchy-id:controllers:path``, such as ``4:memory:/some/group``, or
    ``0::/path`` for v2, and a named hierarchy such as ``name=systemd`` is kept as it is.
    """
    try:
        text = self_cgroup.read_text()
    except OSError:
        return {}
    paths: dict[str, str] = {}
    for line in text.splitlines():
        fields = line.split(":", 2)
        if len(fields) != 3:
            continue
        _, controllers, path = fields
        for controller in controllers.split(",") if controllers else [""]:
            paths[controller] = path
    return paths
