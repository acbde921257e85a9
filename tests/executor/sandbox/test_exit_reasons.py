"""How an agent's end is told: the sentences of exit_reason(), from real exits and on paper."""

from __future__ import annotations

import signal
from collections.abc import Callable
from pathlib import Path

import pytest

from botarena.executor.sandbox import (
    CgroupDriver,
    ExitStatus,
    Limits,
    SandboxedProcess,
    SandboxSpec,
    python_runtime_binds,
    real_python,
    spawn,
)
from botarena.executor.sandbox.exits import decode_plain, decode_sandboxed
from botarena.executor.sandbox.limits import MIB

StartAgent = Callable[..., SandboxedProcess]
ReadLine = Callable[..., bytes]

pytestmark = pytest.mark.timeout(30)


@pytest.mark.parametrize(
    ("program", "reason"),
    [
        ("pass", "exited with code 0"),
        ("raise SystemExit(3)", "exited with code 3"),
        ("import os, signal; os.kill(os.getpid(), signal.SIGSEGV)", "killed by signal SIGSEGV"),
        ("import os, signal; os.kill(os.getpid(), signal.SIGTERM)", "killed by signal SIGTERM"),
        ("raise SystemExit(200)", "exited with code 200"),
    ],
)
def test_real_exits_read_as_sentences(start_agent: StartAgent, program: str, reason: str) -> None:
    agent = start_agent(program)

    agent.wait(10)

    assert agent.exit_reason() == reason
    assert not agent.out_of_memory


def test_an_exit_code_above_128_reads_as_a_signal(start_agent: StartAgent) -> None:
    # bubblewrap reports death by signal N as 128 + N, so this one is indistinguishable.
    agent = start_agent("raise SystemExit(128 + 2)")

    agent.wait(10)

    assert agent.exit_reason() == "killed by signal SIGINT"


def test_a_running_agent_killed_by_close_was_stopped_by_the_host(
    start_agent: StartAgent, read_line: ReadLine
) -> None:
    agent = start_agent("import time\nprint('up', flush=True)\ntime.sleep(60)")
    assert read_line(agent) == b"up\n"
    assert agent.exit_reason() == "still running"
    assert agent.exit_status() is None

    agent.close()
    agent.close()  # closing twice is harmless

    status = agent.exit_status()
    assert status is not None
    assert status.stopped_by_host
    assert agent.exit_reason() == "killed: stopped by the host"


def test_a_sandbox_that_cannot_be_set_up_failed_to_start(
    tmp_path: Path, cgroup_driver: CgroupDriver
) -> None:
    # bubblewrap cannot make a mount point inside the read-only /usr.
    spec = SandboxSpec(
        command=[str(real_python()), "-c", "pass"],
        ro_binds=[*python_runtime_binds(), (tmp_path, "/usr/agent-here")],
    )
    with spawn(spec, Limits(), name=f"test-setup-{tmp_path.name}", driver=cgroup_driver) as agent:
        agent.wait(10)
        message = agent.stderr.read()
        assert agent.cgroup is not None
        folders = [path.parent for path in agent.cgroup.procs_files]

    assert not [folder for folder in folders if folder.exists()]

    status = agent.exit_status()
    assert status is not None
    assert status.failed_to_start
    assert agent.exit_reason().startswith("failed to start (exit status 1)")
    assert b"Read-only file system" in message


def test_a_missing_program_failed_to_start(tmp_path: Path, cgroup_driver: CgroupDriver) -> None:
    spec = SandboxSpec(command=["/agent/no-such-program"])
    with spawn(spec, Limits(), name=f"test-exec-{tmp_path.name}", driver=cgroup_driver) as agent:
        agent.wait(10)

    assert agent.exit_reason().startswith("failed to start")


@pytest.mark.parametrize(
    ("status", "reason"),
    [
        (ExitStatus(code=0, signal=None), "exited with code 0"),
        (ExitStatus(code=None, signal=signal.SIGSEGV), "killed by signal SIGSEGV"),
        (ExitStatus(code=None, signal=77), "killed by signal 77"),
        (
            ExitStatus(None, signal.SIGKILL, out_of_memory=True, memory_limit_bytes=512 * MIB),
            "killed: out of memory (limit 512 MiB)",
        ),
        (
            ExitStatus(None, signal.SIGKILL, out_of_memory=True, stopped_by_host=True),
            "killed: out of memory",
        ),
        (
            ExitStatus(None, signal.SIGKILL, stopped_by_host=True),
            "killed: stopped by the host",
        ),
        (
            ExitStatus(1, None, out_of_memory=True, memory_limit_bytes=1536 * MIB),
            "exited with code 1 after running out of memory (limit 1536 MiB)",
        ),
    ],
)
def test_reason_sentences(status: ExitStatus, reason: str) -> None:
    assert status.reason() == reason


def test_decoding_return_codes() -> None:
    assert decode_sandboxed(0, program_ran=True) == (0, None, False)
    assert decode_sandboxed(3, program_ran=True) == (3, None, False)
    assert decode_sandboxed(139, program_ran=True) == (None, 11, False)
    assert decode_sandboxed(137, program_ran=False) == (None, 9, False)  # its init was killed
    assert decode_sandboxed(-9, program_ran=False) == (None, 9, False)  # bubblewrap was killed
    assert decode_sandboxed(1, program_ran=False) == (1, None, True)
    assert decode_sandboxed(250, program_ran=True) == (250, None, False)  # no signal 122
    assert decode_plain(-11) == (None, 11, False)
    assert decode_plain(139) == (139, None, False)
