"""What a forked agent can see and reach: its own sandbox only, and nothing of the matches its
zygote served before."""

from __future__ import annotations

import ast
import os
import time
from collections.abc import Callable
from pathlib import Path

from botarena.executor.agent_process import AgentProcess
from botarena.executor.forkserver import ForkedAgent
from botarena.executor.match import run_match
from botarena.executor.outcomes import AgentStatus, MatchResult
from botarena.executor.prepare import PreparedAgent
from botarena.executor.referee import RefereeOptions
from botarena.games.registry import get_game
from executor.forkserver.forking import RecordingRunner, sandbox_members, zygote_pid

from support.agent_sources import FAIR, hostile_source
from support.syscalls import expected_results, hostile_agent_source
from support.syscalls import logged as logged_probe

MakeAgent = Callable[[str, str], PreparedAgent]

# syscall numbers of add_key and keyctl, which the C library does not wrap.
KEY_SYSCALLS = {"x86_64": (248, 250), "aarch64": (217, 219)}


def play(runner: object, agents: list[PreparedAgent], **config: object) -> MatchResult:
    game = get_game("connectx")
    return run_match(
        game,
        game.configure({"actTimeout": 2, **config}),
        agents,
        runner,  # type: ignore[arg-type]
        seed=1,
        options=RefereeOptions(startup_timeout=10),
    )


def hostile(make_agent: MakeAgent, name: str, body: str) -> PreparedAgent:
    return make_agent(name, hostile_source(body))


def lost_saying(result: MatchResult) -> str:
    """The hostile player 0 lost by raising; the reason it raised with."""
    assert result.status.value == "finished", result.error
    assert result.agents[1].status is AgentStatus.DONE
    assert result.winner == 1
    assert result.agents[0].status is AgentStatus.ERROR, result.agents[0].log[-500:]
    return result.agents[0].reason or ""


def test_proc_shows_only_the_zygote_and_the_agent(
    recording: RecordingRunner, make_agent: MakeAgent
) -> None:
    body = """    visible = sorted(int(p) for p in os.listdir('/proc') if p.isdigit())
    raise RuntimeError(f'saw {visible} as {os.getpid()}')"""
    lister = hostile(make_agent, "lister", body)
    reason = lost_saying(play(recording, [lister, make_agent("fair", FAIR)]))
    visible, own = reason.split("saw ")[1].split(" as ")
    assert ast.literal_eval(visible) == [1, int(own)], reason


def test_the_zygote_cannot_be_inspected_by_its_child(
    recording: RecordingRunner, make_agent: MakeAgent
) -> None:
    body = """    import ctypes
    denied = []
    for path in ('/proc/1/environ', '/proc/1/mem', '/proc/1/fd/0'):
        try:
            open(path, 'rb').read(1)
        except PermissionError:
            denied.append(path)
    PTRACE_ATTACH = 16
    libc = ctypes.CDLL(None, use_errno=True)
    traced = libc.ptrace(PTRACE_ATTACH, 1, None, None) == 0
    raise RuntimeError(f'denied {denied} traced {traced}')"""
    prober = hostile(make_agent, "prober", body)
    reason = lost_saying(play(recording, [prober, make_agent("fair", FAIR)]))
    assert "denied ['/proc/1/environ', '/proc/1/mem', '/proc/1/fd/0'] traced False" in reason


def test_cannot_kill_the_opponent_or_the_zygote(
    recording: RecordingRunner, make_agent: MakeAgent
) -> None:
    body = """    target = int(open('/agent/target').read())
    outcomes = []
    for pid in (target, 1, os.getppid()):
        try:
            os.kill(pid, signal.SIGKILL)
            outcomes.append('sent')
        except OSError as exc:
            outcomes.append(type(exc).__name__)
    time.sleep(0.2)
    raise RuntimeError(f'outcomes {outcomes}')"""
    killer = hostile(make_agent, "killer", body)
    fair = make_agent("fair", FAIR)

    class Aiming(RecordingRunner):
        def start(self, agent: PreparedAgent, *, name: str) -> AgentProcess:
            process = super().start(agent, name=name)
            if agent is fair:
                assert isinstance(process, ForkedAgent)
                (killer.code_dir / "target").write_text(str(process.pid))
            return process

    aiming = Aiming(recording.runner)
    reason = lost_saying(play(aiming, [killer, fair]))
    # The opponent's pid does not exist in the killer's sandbox; its zygote, pid 1 there,
    # drops the signal without a word.
    assert "outcomes ['ProcessLookupError', 'sent', 'sent']" in reason, reason
    zygote = aiming.forked()[0].zygote
    assert zygote.usable, "the zygote survives its child's attempt"
    again = play(aiming, [killer, fair])
    assert aiming.forked()[2].zygote is zygote
    assert "outcomes" in lost_saying(again)
    assert aiming.started_zygotes == 2


def traces_agent() -> str:
    add_key, keyctl = KEY_SYSCALLS.get(os.uname().machine, (None, None))
    return f"""
import ctypes, os, random, sys, time
libc = ctypes.CDLL(None, use_errno=True)
KEY = 0x5EED
turns = 0

def traces():
    found = {{}}
    for folder in ('/tmp', '/dev/shm', '/dev/mqueue'):
        found[folder] = sorted(os.listdir(folder))
    for kind in ('shm', 'sem', 'msg'):
        found[kind] = open(f'/proc/sysvipc/{{kind}}').read().splitlines()[1:]
    if {keyctl!r} is not None:
        found['key'] = libc.syscall({keyctl!r}, 10, -4, b'user', b'left', 0) > 0
    return found

def leave_traces():
    open('/tmp/left', 'w').write('x')
    open('/dev/shm/left', 'w').write('x')
    os.mkdir('/tmp/locked')
    open('/tmp/locked/inside', 'w').write('x')
    os.chmod('/tmp/locked', 0)
    os.close(os.open('/dev/mqueue/left', os.O_CREAT | os.O_RDWR, 0o600))
    assert libc.shmget(KEY, 4096, 0o1000 | 0o600) >= 0
    assert libc.semget(KEY, 1, 0o1000 | 0o600) >= 0
    assert libc.msgget(KEY, 0o1000 | 0o600) >= 0
    if {add_key!r} is not None:
        # The syscall filter refuses keys (the zygote's wipe would clear one otherwise).
        added = libc.syscall({add_key!r}, b'user', b'left', b'x', 1, -4)
        refused = added == -1 and ctypes.get_errno() == 1
        print('KEY', {{'refused': refused}}, file=sys.stderr, flush=True)
    # A sleeper that outlives the match, detached twice, and then writes to /tmp.
    if os.fork() == 0:
        os.setsid()
        if os.fork() == 0:
            time.sleep(1.0)
            open('/tmp/late', 'w').write('x')
            os._exit(0)
        os._exit(0)
    os.wait()

def agent(obs, conf):
    global turns
    turns += 1
    if turns == 1:
        print('TRACES', traces(), file=sys.stderr, flush=True)
        leave_traces()
        print('LEFT', traces(), file=sys.stderr, flush=True)
    return random.choice([c for c in range(conf.columns) if obs.board[c] == 0])
"""


def logged(result: MatchResult, label: str) -> dict[str, object]:
    line = next(x for x in result.agents[0].log.splitlines() if x.startswith(label + " "))
    value = ast.literal_eval(line.split(" ", 1)[1])
    assert isinstance(value, dict)
    return value


def test_the_next_match_finds_nothing_of_the_last(
    recording: RecordingRunner, make_agent: MakeAgent
) -> None:
    agents = [make_agent("traces", traces_agent()), make_agent("fair", FAIR)]
    first = play(recording, agents)
    assert [a.status for a in first.agents] == [AgentStatus.DONE] * 2, first.agents[0].log[-800:]
    empty = logged(first, "TRACES")
    assert not any(empty.values()), empty
    left = logged(first, "LEFT")
    assert not left.pop("key", False), "a key got past the syscall filter"
    assert all(left.values()), "the traces must really have been left"
    if KEY_SYSCALLS.get(os.uname().machine):
        assert logged(first, "KEY") == {"refused": True}
    zygote = recording.forked()[0].zygote
    # The double-forked sleeper died with the match: nothing runs in the sandbox but the zygote.
    assert sandbox_members(zygote_pid(zygote)) == {zygote_pid(zygote)}
    time.sleep(1.3)  # a surviving sleeper would have written /tmp/late by now
    second = play(recording, agents)
    assert recording.forked()[2].zygote is zygote
    assert [a.status for a in second.agents] == [AgentStatus.DONE] * 2, second.agents[0].log
    assert logged(second, "TRACES") == empty


def seccomp_mode(pid: int) -> str:
    status = Path(f"/proc/{pid}/status").read_text()
    return next(line.split()[1] for line in status.splitlines() if line.startswith("Seccomp:"))


def test_forked_agents_run_under_the_zygotes_syscall_filter(
    recording: RecordingRunner, make_agent: MakeAgent
) -> None:
    """The filter is installed on the zygote, before its first instruction, and every child
    it forks inherits it: a forked agent gets EPERM for each denied call like any other."""
    agents = [make_agent("syscalls", hostile_agent_source()), make_agent("fair", FAIR)]
    first = play(recording, agents)
    assert "no denied syscall got through" in lost_saying(first)
    tried = logged_probe(first.agents[0].log, "SYSCALLS")
    assert tried == expected_results(tried)
    ordinary = logged_probe(first.agents[0].log, "ORDINARY")
    assert ordinary["seccomp_mode"] == ordinary["subprocess_seccomp_mode"] == "2", ordinary
    assert {v for k, v in ordinary.items() if "seccomp" not in k} == {"ok"}, ordinary
    zygote = recording.forked()[0].zygote
    assert seccomp_mode(zygote_pid(zygote)) == "2"
    # Nothing else changed: the same zygotes serve the next match, with the same outcome.
    assert zygote.usable
    second = play(recording, agents)
    assert recording.forked()[2].zygote is zygote
    assert "no denied syscall got through" in lost_saying(second)
    assert recording.started_zygotes == 2
