"""Hostile agents in real sandboxed matches: each one ends with the right outcome, in bounded
time, its opponent winning, and nothing of it left behind."""

from __future__ import annotations

import errno
import os
import socket
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from botarena.executor.match import run_match
from botarena.executor.outcomes import AgentStatus, MatchResult
from botarena.executor.prepare import PreparedAgent
from botarena.executor.referee import RefereeOptions
from botarena.executor.runners.base import Runner
from botarena.games.registry import get_game

from support.agent_sources import FAIR, hostile_source
from support.syscalls import expected_results, hostile_agent_source, logged

MakeAgent = Callable[[str, str], PreparedAgent]

pytestmark = pytest.mark.usefixtures("no_leftovers")


def _play(runner: Runner, hostile: object, fair: object, **config: object) -> MatchResult:
    game = get_game("connectx")
    configuration = game.configure({"actTimeout": 0.5, "overageTime": 0.5, **config})
    started = time.monotonic()
    result = run_match(
        game,
        configuration,
        [hostile, fair],  # type: ignore[list-item]
        runner,
        seed=1,
        options=RefereeOptions(startup_timeout=10),
    )
    assert time.monotonic() - started < 15, "the match must end in bounded time"
    return result


def _assert_lost(
    result: MatchResult, status: AgentStatus, reason_part: str | tuple[str, ...]
) -> None:
    """The hostile agent lost with ``status``, its reason saying ``reason_part`` (or one of
    them); the fair one finished and won."""
    assert result.status.value == "finished", result.error
    hostile, fair = result.agents
    assert hostile.status is status, (hostile.status, hostile.reason, hostile.log[-500:])
    parts = (reason_part,) if isinstance(reason_part, str) else reason_part
    assert any(part in (hostile.reason or "") for part in parts), (
        hostile.reason,
        hostile.log[-500:],
    )
    assert fair.status is AgentStatus.DONE
    assert result.winner == 1
    assert result.scores == [0.0, 1.0]


CASES = [
    ("endless-loop", "    while True: pass", AgentStatus.TIMEOUT, "ran out of time"),
    ("sleeps", "    import time; time.sleep(30)", AgentStatus.TIMEOUT, "ran out of time"),
    (
        "memory-bomb",
        "    hog = []\n    while True: hog.append(bytearray(16 * 1024 * 1024))",
        AgentStatus.ERROR,
        "out of memory",
    ),
    (
        "fork-bomb",
        "    while True:\n        try: os.fork()\n        except OSError: pass",
        AgentStatus.TIMEOUT,
        "ran out of time",
    ),
    ("exits", "    os._exit(3)", AgentStatus.ERROR, "exited with code 3"),
    (
        "raises",
        "    raise RuntimeError('boom')",
        AgentStatus.ERROR,
        "agent raised RuntimeError: boom",
    ),
    (
        "stdout-flood",
        "    out = os.fdopen(3, 'wb')\n    while True: out.write(b'x' * 65536); out.flush()",
        AgentStatus.INVALID,
        "reply longer than",
    ),
    (
        "stderr-flood",
        "    while True: os.write(2, b'y' * 65536)",
        AgentStatus.TIMEOUT,
        "ran out of time",
    ),
    (
        "garbage",
        "    out = os.fdopen(3, 'wb')\n    out.write(b'hello there\\n'); out.flush()\n"
        "    import time; time.sleep(5)",
        AgentStatus.INVALID,
        "reply is not JSON",
    ),
    ("illegal-move", "    globals()['agent'] = None", AgentStatus.INVALID, "illegal action"),
    (
        "writes-outside-tmp",
        "    open('/agent/evil.txt', 'w').write('x')",
        AgentStatus.ERROR,
        "Read-only file system",
    ),
    ("writes-root", "    open('/evil.txt', 'w').write('x')", AgentStatus.ERROR, "agent raised"),
    ("reads-shadow", "    print(open('/etc/shadow').read())", AgentStatus.ERROR, "agent raised"),
]


# Some runners stop a few of them differently, the agent losing all the same. gVisor's own
# kernel: the memory limit ends a fork bomb before the clock does, and a write to a read-only
# folder is refused for its permissions before the file system's flag is looked at. podman
# (cgroupfs on cgroup v1): the kernel's kill for memory is not reported as such. dockerd
# takes a container's out-of-memory mark from containerd's OOM event, which on a busy machine
# can come after the exit it belongs to: the kill is then reported as the SIGKILL it was.
OUT_OF_MEMORY_OR_ITS_KILL = (AgentStatus.ERROR, ("out of memory", "killed by signal SIGKILL"))
RUNNER_OUTCOMES: dict[str, dict[str, tuple[AgentStatus, str | tuple[str, ...]]]] = {
    "docker": {"memory-bomb": OUT_OF_MEMORY_OR_ITS_KILL},
    "gvisor": {
        "memory-bomb": OUT_OF_MEMORY_OR_ITS_KILL,
        "fork-bomb": (AgentStatus.ERROR, "out of memory"),
        "writes-outside-tmp": (AgentStatus.ERROR, "Permission denied"),
    },
    "podman": {"memory-bomb": (AgentStatus.ERROR, "killed by signal SIGKILL")},
}


@pytest.mark.parametrize(("case", "body", "status", "reason"), CASES, ids=[c[0] for c in CASES])
def test_hostile_agent(
    sandbox_runner: Runner,
    make_agent: MakeAgent,
    case: str,
    body: str,
    status: AgentStatus,
    reason: str,
    request: pytest.FixtureRequest,
) -> None:
    runner = request.node.callspec.params["sandbox_runner"]
    expected = RUNNER_OUTCOMES.get(runner, {}).get(case, (status, reason))
    source = hostile_source(body)
    if case == "stdout-flood" or case == "garbage":
        # The shim keeps the real stdout on a private descriptor; find it the hard way.
        source = source.replace("os.fdopen(3, 'wb')", "os.fdopen(_protocol_fd(), 'wb')")
        source += PROTOCOL_FD_FINDER
    if case == "illegal-move":
        source = hostile_source(second_move=7)
    hostile = make_agent(case, source)
    fair = make_agent("fair", FAIR)
    before = sorted(p.name for p in hostile.code_dir.iterdir())
    result = _play(sandbox_runner, hostile, fair)
    _assert_lost(result, *expected)
    assert sorted(p.name for p in hostile.code_dir.iterdir()) == before
    if case == "stderr-flood":
        log = result.agents[0].log
        assert "bytes of log truncated" in log and len(log) < 70 * 1024


PROTOCOL_FD_FINDER = """
def _protocol_fd():
    # The shim's private copy of the original stdout: a pipe other than 0, 1 and 2.
    import fcntl, stat
    for fd in range(3, 64):
        try:
            if stat.S_ISFIFO(os.fstat(fd).st_mode):
                if fcntl.fcntl(fd, fcntl.F_GETFL) & os.O_ACCMODE == os.O_WRONLY:
                    return fd
        except OSError:
            continue
    raise RuntimeError('no protocol pipe')
"""


def test_cannot_reach_the_network(sandbox_runner: Runner, make_agent: MakeAgent) -> None:
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen()
    listener.settimeout(0.5)
    port = listener.getsockname()[1]
    body = f"    import socket\n    socket.create_connection(('127.0.0.1', {port}), timeout=1)"
    hostile = make_agent("network", hostile_source(body))
    result = _play(sandbox_runner, hostile, make_agent("fair", FAIR))
    _assert_lost(result, AgentStatus.ERROR, "agent raised")
    with pytest.raises(TimeoutError):
        listener.accept()
    listener.close()


def test_cannot_read_the_platform_database(
    sandbox_runner: Runner, make_agent: MakeAgent, tmp_path: Path
) -> None:
    database = tmp_path / "botarena.db"
    database.write_text("secret tokens")
    body = f"    print(open({str(database)!r}).read())"
    hostile = make_agent("reader", hostile_source(body))
    result = _play(sandbox_runner, hostile, make_agent("fair", FAIR))
    _assert_lost(result, AgentStatus.ERROR, "No such file or directory")
    assert "secret tokens" not in result.agents[0].log


def test_cannot_see_or_signal_the_referee_or_the_opponent(
    sandbox_runner: Runner, make_agent: MakeAgent
) -> None:
    body = f"""    import signal
    visible = sorted(int(p) for p in os.listdir('/proc') if p.isdigit())
    print('visible', visible, file=sys.stderr)
    for pid in (os.getppid(), {os.getpid()}, *range(1, 200)):
        # Not 0 or less: those mean "my own group" (gVisor shows the agent a parent of 0).
        if pid == os.getpid() or pid <= 0:
            continue
        try:
            os.kill(pid, signal.SIGKILL)
            print('killed', pid, file=sys.stderr)
        except OSError:
            pass
    raise RuntimeError('nobody to signal, saw ' + repr(visible))"""
    hostile = make_agent("signaller", hostile_source(body))
    result = _play(sandbox_runner, hostile, make_agent("fair", FAIR))
    _assert_lost(result, AgentStatus.ERROR, "nobody to signal")
    # Only the sandbox's own supervisor and the agent itself are visible inside.
    assert len(eval(result.agents[0].reason.split("saw ")[1])) <= 3  # noqa: S307 - a list literal


def test_exits_at_once(sandbox_runner: Runner, make_agent: MakeAgent) -> None:
    hostile = make_agent("quitter", "import os\nos._exit(0)\n")
    result = _play(sandbox_runner, hostile, make_agent("fair", FAIR))
    _assert_lost(result, AgentStatus.ERROR, "exited with code")
    assert result.turns == 0


# What Docker's default seccomp profile refuses of what the probe tries: the engine's
# profile, not ours, guards the docker runner. It lets ptrace and a few others through
# (since kernel 4.8 a ptrace of anything outside the container is impossible anyway), and
# before Docker 23 AF_VSOCK sockets too (see docs/architecture.md).
DOCKER_DENIES = {
    "keyctl",
    "add_key",
    "request_key",
    "bpf",
    "perf_event_open",
    "userfaultfd",
    "kexec_load",
    "kexec_file_load",
    "init_module",
    "finit_module",
    "delete_module",
    "reboot",
    "open_by_handle_at",
    "mount",
    "umount2",
    "pivot_root",
    "unshare_user",
    "unshare_net",
    "unshare_mount",
    "setns",
    "clone_newns",
    "clone_newuser",
    "clone_newnet",
    "swapon",
    "swapoff",
    "acct",
    "settimeofday",
    "clock_settime",
    "iopl",
    "ioperm",
    "syslog",
    "quotactl",
    "vhangup",
    "sethostname",
    "get_mempolicy",
}


@pytest.mark.parametrize(
    "sandbox_runner", ["fresh-sandbox", "fork-server", "docker"], indirect=True
)
def test_denied_syscalls_fail_and_the_agent_loses(
    sandbox_runner: Runner, make_agent: MakeAgent, request: pytest.FixtureRequest
) -> None:
    """Every call of the syscall filter's deny list fails with EPERM (clone3: ENOSYS); the
    agent, seeing nothing got through, raises on its second turn and loses like any other.
    On the docker runner the engine's default profile does the same for its own list."""
    hostile = make_agent("syscalls", hostile_agent_source())
    result = _play(sandbox_runner, hostile, make_agent("fair", FAIR))
    log = result.agents[0].log
    tried = logged(log, "SYSCALLS")
    ordinary = logged(log, "ORDINARY")
    assert ordinary["seccomp_mode"] == ordinary["subprocess_seccomp_mode"] == "2", ordinary
    if request.node.callspec.params["sandbox_runner"] == "docker":
        refused = {label: tried[label] for label in DOCKER_DENIES if label in tried}
        assert refused == {label: errno.EPERM for label in refused}, refused
        assert tried["clone3"] == errno.ENOSYS
        assert result.winner == 1 and result.agents[1].status is AgentStatus.DONE
        return
    assert tried == expected_results(tried)
    assert {v for k, v in ordinary.items() if "seccomp" not in k} == {"ok"}, ordinary
    _assert_lost(result, AgentStatus.ERROR, "no denied syscall got through")
    # The same sandbox, or fork server, serves the next match as before.
    again = _play(sandbox_runner, make_agent("fair-again", FAIR), make_agent("fair-too", FAIR))
    assert [agent.status for agent in again.agents] == [AgentStatus.DONE] * 2
