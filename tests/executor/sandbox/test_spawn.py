"""Starting agents without cgroups, without bubblewrap, unsandboxed; and the command line."""

from __future__ import annotations

import json
import os
import resource
import select
import threading
import time
from pathlib import Path
from typing import IO

import pytest

import botarena.executor.sandbox.process as process_module
from botarena.executor.sandbox import (
    CgroupDriver,
    IsolationReport,
    Limits,
    SandboxedProcess,
    SandboxSpec,
    SandboxUnavailable,
    bwrap_argv,
    python_runtime_binds,
    real_python,
    spawn,
    spawn_unsandboxed,
)
from botarena.executor.sandbox.limits import GIB, MIB, format_bytes
from botarena.executor.sandbox.process import host_path
from botarena.executor.sandbox.rlimits import rlimit_plan

pytestmark = pytest.mark.timeout(30)


def python_spec(agent_dir: Path, program: str) -> SandboxSpec:
    (agent_dir / "agent.py").write_text(program)
    return SandboxSpec(
        command=[str(real_python()), "/agent/agent.py"],
        ro_binds=[*python_runtime_binds(), (agent_dir, "/agent")],
        cwd="/agent",
    )


def first_line(stream: IO[bytes], timeout: float = 10) -> bytes:
    ready, _, _ = select.select([stream], [], [], timeout)
    assert ready, f"no output within {timeout} s"
    return stream.readline()


def is_running(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state not in {"Z", "X"}


def test_a_sandbox_without_cgroups_runs_on_rlimits_alone(tmp_path: Path, bwrap_ready: None) -> None:
    spec = python_spec(tmp_path, "import os, time\nprint(os.getuid(), flush=True)\ntime.sleep(60)")

    with spawn(spec, Limits(), name="unused", driver=None) as agent:
        assert first_line(agent.stdout) == b"65534\n"
        assert agent.cgroup is None
        assert agent.cpu_seconds() is None

    assert agent.exit_reason() == "killed: stopped by the host"
    assert agent.memory_peak_bytes() is None
    assert not is_running(agent.pid)


def test_a_sandbox_outlives_the_thread_that_spawned_it(
    tmp_path: Path, cgroup_driver: CgroupDriver
) -> None:
    # bubblewrap dies with the *thread* that forked it; spawn() forks from a lasting one.
    spec = python_spec(tmp_path, "import time\nprint('up', flush=True)\ntime.sleep(60)")
    spawned: list[SandboxedProcess] = []

    def worker() -> None:
        spawned.append(
            spawn(spec, Limits(), name=f"test-thread-{tmp_path.name}", driver=cgroup_driver)
        )
        assert first_line(spawned[0].stdout) == b"up\n"  # bubblewrap is set up by now

    thread = threading.Thread(target=worker)
    thread.start()
    thread.join(10)
    with spawned[0] as agent:
        time.sleep(0.3)
        assert agent.poll() is None, agent.exit_reason()


def test_spawn_without_bubblewrap_says_so(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(process_module, "find_bwrap", lambda: None)

    with pytest.raises(SandboxUnavailable, match="install the bubblewrap package"):
        spawn(python_spec(tmp_path, "pass"), Limits(), name="never", driver=None)


UNSANDBOXED = r"""
import json, os, resource, subprocess, sys, time
child = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
print(json.dumps({
    "cwd": os.getcwd(),
    "argv0": sys.argv[0],
    "child": child.pid,
    "open_files": resource.getrlimit(resource.RLIMIT_NOFILE),
    "sid_is_self": os.getsid(0) == os.getpid(),
}), flush=True)
time.sleep(60)
"""


def test_unsandboxed_runs_the_same_command_and_kills_its_group(tmp_path: Path) -> None:
    spec = python_spec(tmp_path, UNSANDBOXED)

    with spawn_unsandboxed(spec, Limits(open_files=100)) as agent:
        seen = json.loads(first_line(agent.stdout))
        assert not agent.sandboxed

    assert seen["cwd"] == str(tmp_path)
    assert seen["argv0"] == str(tmp_path / "agent.py")
    assert seen["open_files"] == [100, 100]
    assert seen["sid_is_self"]
    assert agent.exit_reason() == "killed: stopped by the host"
    deadline = time.monotonic() + 3
    while is_running(seen["child"]) and time.monotonic() < deadline:
        time.sleep(0.02)
    assert not is_running(seen["child"])


def test_unsandboxed_exit_codes_and_signals(tmp_path: Path) -> None:
    spec = python_spec(tmp_path, "import os, signal; os.kill(os.getpid(), signal.SIGABRT)")

    with spawn_unsandboxed(spec, Limits()) as agent:
        agent.wait(10)

    assert agent.exit_reason() == "killed by signal SIGABRT"


def test_sandbox_paths_map_back_to_host_paths() -> None:
    spec = SandboxSpec(
        command=["run"],
        ro_binds=[(Path("/srv/agents/7"), "/agent"), (Path("/srv/data"), "/agent/data")],
    )

    assert host_path(spec, "/agent") == "/srv/agents/7"
    assert host_path(spec, "/agent/main.py") == "/srv/agents/7/main.py"
    assert host_path(spec, "/agent/data/x") == "/srv/data/x"
    assert host_path(spec, "/agentx") == "/agentx"
    assert host_path(spec, "-v") == "-v"


def contains(items: list[str], run: list[str]) -> bool:
    return any(items[start : start + len(run)] == run for start in range(len(items)))


def test_command_line_isolates_and_binds_read_only(tmp_path: Path) -> None:
    spec = SandboxSpec(
        command=["/usr/bin/env"],
        ro_binds=[(tmp_path, "/agent")],
        env={"PATH": "/usr/bin", "SEED": "7"},
        cwd="/agent",
        tmp_bytes=2 * MIB,
    )

    argv = bwrap_argv(spec, Limits(), bwrap=Path("/opt/bwrap"))

    assert argv[0] == "/opt/bwrap"
    options = argv[: argv.index("--")]
    for flag in ("--unshare-all", "--unshare-user", "--disable-userns", "--die-with-parent"):
        assert flag in options
    assert options[options.index("--uid") + 1] == "65534"
    assert options[options.index("--cap-drop") + 1] == "ALL"
    assert options[options.index("--size") + 1] == str(2 * MIB)
    assert contains(options, ["--ro-bind", str(tmp_path), "/agent"])
    assert "--bind" not in options  # nothing writable from the host
    assert options.index("--remount-ro") > options.index(str(tmp_path))
    assert "/etc" not in options  # only chosen files of it
    assert contains(options, ["--setenv", "SEED", "7"])
    assert argv[argv.index("--") + 1 :] == ["/usr/bin/env"]


def test_spec_problems_are_refused_before_anything_starts(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="does not exist"):
        bwrap_argv(SandboxSpec(["x"], ro_binds=[(tmp_path / "gone", "/agent")]), Limits())
    with pytest.raises(ValueError, match="absolute"):
        bwrap_argv(SandboxSpec(["x"], ro_binds=[(tmp_path, "agent")]), Limits())
    with pytest.raises(ValueError, match="command"):
        bwrap_argv(SandboxSpec([]), Limits())


def test_python_runtime_binds_cover_the_real_interpreter() -> None:
    python = real_python()
    assert not python.is_symlink()
    covered = [source for source, target in python_runtime_binds() if str(source) == target]
    assert any(python.is_relative_to(source) for source in covered) or python.is_relative_to("/usr")


def test_isolation_probe_describes_this_machine(isolation: IsolationReport) -> None:
    described = isolation.describe()
    if isolation.bwrap and isolation.cgroups:
        assert described == (
            f"bubblewrap sandbox with a syscall filter and cgroup {isolation.cgroups} limits "
            "(memory, processes, CPU)"
        )
    assert IsolationReport(bwrap=True, cgroups=None).describe() == (
        "bubblewrap sandbox with a syscall filter, without cgroup limits (rlimits only)"
    )
    assert IsolationReport(bwrap=False, cgroups="v1").describe() == (
        "no sandbox: bubblewrap is not installed "
        "(install the bubblewrap package: sudo apt-get install bubblewrap)"
    )
    broken = IsolationReport(
        False, None, Path("/usr/bin/bwrap"), "No permissions to create a new namespace"
    )
    assert broken.describe().startswith(
        "no sandbox: bubblewrap is installed but cannot start a sandbox "
        "(No permissions to create a new namespace); allow unprivileged user namespaces "
        "(sudo sysctl -w kernel.unprivileged_userns_clone=1; "
    )
    needs = "the sandbox's syscall filter needs libseccomp, which cannot be loaded (…): install"
    no_filter = IsolationReport(False, None, Path("/usr/bin/bwrap"), needs)
    assert no_filter.describe() == f"no sandbox: {needs}"


def test_rlimits_bind_others_than_root_by_process_count() -> None:
    as_root = dict(rlimit_plan(Limits(pids=10), uid=0))
    as_user = dict(rlimit_plan(Limits(pids=10), uid=os.getuid() + 12345))

    assert resource.RLIMIT_NPROC not in as_root
    assert as_user[resource.RLIMIT_NPROC] == 10  # nobody runs as that uid
    assert as_root[resource.RLIMIT_CORE] == 0
    assert resource.RLIMIT_STACK in dict(rlimit_plan(Limits(stack_bytes=8 * MIB), uid=0))


def test_limits_are_checked_and_sizes_read_well() -> None:
    with pytest.raises(ValueError, match="memory_bytes"):
        Limits(memory_bytes=0)
    with pytest.raises(ValueError, match="cpu_cores"):
        Limits(cpu_cores=0)
    assert format_bytes(512 * MIB) == "512 MiB"
    assert format_bytes(2 * GIB) == "2 GiB"
    assert format_bytes(1536 * MIB) == "1536 MiB"
    assert format_bytes(1000) == "1000 bytes"
