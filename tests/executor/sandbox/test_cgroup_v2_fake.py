"""The cgroup v2 driver against a folder laid out like a v2 hierarchy (this machine has none).

The fake is plain files: what the driver writes stays there to be read back, and nothing
enforces it. Where the kernel would act (killing, counting), the test plays its part.
"""

from __future__ import annotations

import os
import subprocess
import threading
from pathlib import Path

import pytest

from botarena.executor.sandbox import CgroupError, Limits, detect_cgroup_driver, real_python
from botarena.executor.sandbox.cgroup_v2 import CgroupV2, CgroupV2Group
from botarena.executor.sandbox.limits import MIB

CONTROLLERS = "cpuset cpu io memory hugetlb pids rdma misc\n"


def fake_hierarchy(root: Path, *, controllers: str = CONTROLLERS) -> Path:
    root.mkdir(parents=True, exist_ok=True)
    (root / "cgroup.controllers").write_text(controllers)
    (root / "cgroup.subtree_control").write_text("")
    (root / "cgroup.procs").write_text("")
    return root


def self_cgroup(tmp_path: Path, path: str) -> Path:
    file = tmp_path / "self-cgroup"
    file.write_text(f"0::{path}\n")
    return file


def make_driver(tmp_path: Path) -> CgroupV2:
    root = fake_hierarchy(tmp_path / "cgroup")
    driver = detect_cgroup_driver(root, self_cgroup=self_cgroup(tmp_path, "/"))
    assert isinstance(driver, CgroupV2)
    return driver


def test_detects_v2_at_the_root_and_enables_the_controllers(tmp_path: Path) -> None:
    root = fake_hierarchy(tmp_path / "cgroup")

    driver = detect_cgroup_driver(root, self_cgroup=self_cgroup(tmp_path, "/"))

    assert isinstance(driver, CgroupV2)
    assert driver.kind == "v2"
    assert driver.parent == root / "botarena"
    assert (root / "cgroup.subtree_control").read_text() == "+memory +pids +cpu"


def test_prefers_our_own_cgroup_when_it_can_delegate(tmp_path: Path) -> None:
    root = fake_hierarchy(tmp_path / "cgroup")
    own = fake_hierarchy(root / "user.slice" / "session-1", controllers="cpu memory pids\n")
    (own / "cgroup.subtree_control").write_text("cpu memory pids\n")

    driver = detect_cgroup_driver(root, self_cgroup=self_cgroup(tmp_path, "/user.slice/session-1"))

    assert isinstance(driver, CgroupV2)
    assert driver.parent == own / "botarena"
    assert (own / "cgroup.subtree_control").read_text() == "cpu memory pids\n"  # untouched


def test_falls_back_to_the_root_when_our_cgroup_refuses(tmp_path: Path) -> None:
    root = fake_hierarchy(tmp_path / "cgroup")
    own = fake_hierarchy(root / "busy", controllers="cpu memory pids\n")
    # The kernel answers EBUSY where processes sit; a folder in the way fails the write too.
    (own / "cgroup.subtree_control").unlink()
    (own / "cgroup.subtree_control").mkdir()

    driver = detect_cgroup_driver(root, self_cgroup=self_cgroup(tmp_path, "/busy"))

    assert isinstance(driver, CgroupV2)
    assert driver.parent == root / "botarena"


def test_no_driver_without_the_controllers(tmp_path: Path) -> None:
    root = fake_hierarchy(tmp_path / "cgroup", controllers="cpu io\n")

    assert detect_cgroup_driver(root, self_cgroup=self_cgroup(tmp_path, "/")) is None


def test_create_writes_each_limit(tmp_path: Path) -> None:
    driver = make_driver(tmp_path)

    group = driver.create("match-7-a", Limits(memory_bytes=64 * MIB, pids=16, cpu_cores=0.5))

    folder = driver.parent / f"match-7-a.p{os.getpid()}"  # the creator pid marks its owner
    assert isinstance(group, CgroupV2Group)
    assert group.procs_files == (folder / "cgroup.procs",)
    assert (driver.parent / "cgroup.subtree_control").read_text() == "+memory +pids +cpu"
    assert (folder / "memory.max").read_text() == str(64 * MIB)
    assert (folder / "memory.swap.max").read_text() == "0"
    assert (folder / "pids.max").read_text() == "18"  # 16 for the agent, 2 for bubblewrap
    assert (folder / "cpu.max").read_text() == "50000 100000"


@pytest.mark.parametrize("name", ["", "..", "../escape", "a/b", ".hidden", "x" * 101])
def test_refuses_names_that_are_not_one_plain_folder(tmp_path: Path, name: str) -> None:
    with pytest.raises(CgroupError):
        make_driver(tmp_path).create(name, Limits())


def test_kill_all_writes_cgroup_kill_and_kills_what_is_listed(tmp_path: Path) -> None:
    group = make_driver(tmp_path).create("killed", Limits())
    victim = subprocess.Popen([str(real_python()), "-c", "import time; time.sleep(60)"])
    reaper = threading.Thread(target=victim.wait)  # reaps it the moment it dies
    reaper.start()
    try:
        (group.folder / "cgroup.kill").write_text("")  # a kernel that has it (5.14 on)
        (group.folder / "cgroup.procs").write_text(f"{victim.pid}\n")
        assert group.pids() == {victim.pid}

        assert group.kill_all(timeout=5)

        reaper.join(5)
        assert victim.returncode == -9
        assert (group.folder / "cgroup.kill").read_text() == "1"
    finally:
        victim.kill()
        reaper.join(5)


def test_reads_oom_kills_peak_and_cpu_time(tmp_path: Path) -> None:
    group = make_driver(tmp_path).create("counters", Limits())
    assert not group.oom_killed()
    assert group.memory_peak_bytes() is None
    assert group.cpu_seconds() is None

    (group.folder / "memory.events").write_text("low 0\nhigh 0\nmax 4\noom 1\noom_kill 0\n")
    assert not group.oom_killed()
    (group.folder / "memory.events").write_text("low 0\nhigh 0\nmax 9\noom 2\noom_kill 1\n")
    (group.folder / "memory.peak").write_text("12345678\n")
    (group.folder / "cpu.stat").write_text("usage_usec 1500000\nuser_usec 1000000\n")

    assert group.oom_killed()
    assert group.memory_peak_bytes() == 12345678
    assert group.cpu_seconds() == 1.5


def test_remove_deletes_the_folder_and_our_empty_parent(tmp_path: Path) -> None:
    driver = make_driver(tmp_path)
    group = driver.create("gone", Limits())
    # The kernel's interface files vanish with their folder; the fake's are cleared by hand.
    for folder in (group.folder, driver.parent):
        for file in folder.iterdir():
            if file.is_file():
                file.unlink()

    group.remove()

    assert not group.folder.exists()
    assert not driver.parent.exists()
