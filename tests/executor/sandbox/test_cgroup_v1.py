"""The cgroup v1 driver: detection on a fake layout, and the real hierarchy of this machine."""

from __future__ import annotations

import os
import subprocess
import threading
from pathlib import Path

import pytest

from botarena.executor.sandbox import (
    CgroupDriver,
    CgroupError,
    Limits,
    detect_cgroup_driver,
    real_python,
)
from botarena.executor.sandbox.cgroup_v1 import CgroupV1
from botarena.executor.sandbox.cgroups import own_cgroup_paths
from botarena.executor.sandbox.limits import MIB


def fake_v1(root: Path, controllers: tuple[str, ...] = ("memory", "pids", "cpu")) -> Path:
    for controller in controllers:
        (root / controller).mkdir(parents=True)
        (root / controller / "cgroup.procs").write_text("")
    return root


def test_reads_our_cgroups_from_proc(tmp_path: Path) -> None:
    file = tmp_path / "cgroup"
    file.write_text("9:name=systemd:/x\n4:memory:/a/b\n2:cpu,cpuacct:/\n0::/y\n")

    assert own_cgroup_paths(file) == {
        "name=systemd": "/x",
        "memory": "/a/b",
        "cpu": "/",
        "cpuacct": "/",
        "": "/y",
    }


def test_detects_v1_under_our_own_nested_cgroup(tmp_path: Path) -> None:
    root = fake_v1(tmp_path / "cgroup")
    (root / "memory" / "jobs" / "7").mkdir(parents=True)
    (root / "memory" / "jobs" / "7" / "cgroup.procs").write_text("")
    self_cgroup = tmp_path / "self"
    # Our memory cgroup is nested; the pids one names a folder that is not there: use the root.
    self_cgroup.write_text("8:pids:/gone\n4:memory:/jobs/7\n1:cpu:/\n")

    driver = detect_cgroup_driver(root, self_cgroup=self_cgroup)

    assert isinstance(driver, CgroupV1)
    assert driver.kind == "v1"
    assert driver.parents == {
        "memory": root / "memory" / "jobs" / "7" / "botarena",
        "pids": root / "pids" / "botarena",
        "cpu": root / "cpu" / "botarena",
    }


def test_no_driver_without_the_pids_controller(tmp_path: Path) -> None:
    root = fake_v1(tmp_path / "cgroup", ("memory", "cpu", "cpuacct"))
    self_cgroup = tmp_path / "self"
    self_cgroup.write_text("")

    assert detect_cgroup_driver(root, self_cgroup=self_cgroup) is None


@pytest.fixture
def v1_driver(cgroup_driver: CgroupDriver) -> CgroupV1:
    if not isinstance(cgroup_driver, CgroupV1):
        pytest.skip(f"this machine uses cgroup {cgroup_driver.kind}")
    return cgroup_driver


def test_real_cgroups_get_the_limits_and_are_removed(v1_driver: CgroupV1) -> None:
    limits = Limits(memory_bytes=64 * MIB, pids=16, cpu_cores=0.5)

    group = v1_driver.create(f"test-limits-{os.getpid()}", limits)

    try:
        memory, pids, cpu = (group.leaves[name] for name in ("memory", "pids", "cpu"))
        own_memory = own_cgroup_paths()["memory"].strip("/")
        assert memory.parent.parent == Path("/sys/fs/cgroup/memory", own_memory)
        assert (memory / "memory.limit_in_bytes").read_text() == f"{64 * MIB}\n"
        if (memory / "memory.memsw.limit_in_bytes").exists():
            assert (memory / "memory.memsw.limit_in_bytes").read_text() == f"{64 * MIB}\n"
        assert (pids / "pids.max").read_text() == "18\n"
        assert (cpu / "cpu.cfs_period_us").read_text() == "100000\n"
        assert (cpu / "cpu.cfs_quota_us").read_text() == "50000\n"
        assert group.pids() == set()
        assert not group.oom_killed()
    finally:
        group.remove()
    assert not [leaf for leaf in group.leaves.values() if leaf.exists()]


def test_an_empty_leftover_is_replaced_with_fresh_counters(v1_driver: CgroupV1) -> None:
    name = f"test-leftover-{os.getpid()}"
    first = v1_driver.create(name, Limits())

    second = v1_driver.create(name, Limits(pids=5))  # as after a crash: the folder is there

    try:
        assert second.leaves == first.leaves
        assert (second.leaves["pids"] / "pids.max").read_text() == "7\n"
    finally:
        second.remove()


def test_a_leftover_with_processes_is_refused_then_killed(v1_driver: CgroupV1) -> None:
    name = f"test-busy-{os.getpid()}"
    group = v1_driver.create(name, Limits())
    victim = subprocess.Popen([str(real_python()), "-c", "import time; time.sleep(60)"])
    reaper = threading.Thread(target=victim.wait)
    reaper.start()
    try:
        for procs in group.procs_files:
            procs.write_text(str(victim.pid))
        assert group.pids() == {victim.pid}

        with pytest.raises(CgroupError, match="has processes"):
            v1_driver.create(name, Limits())

        group.remove()  # kills what is inside first
        reaper.join(5)
        assert victim.returncode == -9
        assert not [leaf for leaf in group.leaves.values() if leaf.exists()]
    finally:
        victim.kill()
        reaper.join(5)
        group.remove()
