"""Hostile agents: memory and fork bombs, endless loops and escaping children are contained."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import pytest

from botarena.executor.sandbox import Limits, SandboxedProcess
from botarena.executor.sandbox.cgroup_base import SUPERVISORS
from botarena.executor.sandbox.limits import MIB

StartAgent = Callable[..., SandboxedProcess]
ReadJson = Callable[..., dict[str, Any]]
ReadLine = Callable[..., bytes]
Snapshot = Callable[[SandboxedProcess], set[int]]
StillAlive = Callable[[set[int]], set[int]]

pytestmark = pytest.mark.timeout(30)

MEMORY_BOMB = r"""
print("ready", flush=True)
hoard = []
while True:
    hoard.append(bytearray(1024 * 1024))  # zero-filled, so every page is really used
"""


def test_memory_bomb_is_killed_as_out_of_memory(
    start_agent: StartAgent, read_line: ReadLine
) -> None:
    agent = start_agent(MEMORY_BOMB, Limits(memory_bytes=64 * MIB))
    assert read_line(agent) == b"ready\n"

    agent.wait(10)

    assert agent.out_of_memory
    assert agent.exit_reason() == "killed: out of memory (limit 64 MiB)"
    peak = agent.memory_peak_bytes()
    assert peak is not None
    assert peak <= 64 * MIB


FORK_BOMB = r"""
import json, os, time
forks = 0
while True:
    try:
        pid = os.fork()
    except OSError as exc:
        print(json.dumps({"forks": forks, "errno": exc.errno}), flush=True)
        break
    if pid == 0:
        time.sleep(60)
        os._exit(0)
    forks += 1
time.sleep(60)
"""


def test_fork_bomb_hits_the_process_limit(
    start_agent: StartAgent, read_json: ReadJson, snapshot: Snapshot
) -> None:
    limits = Limits(pids=16)
    agent = start_agent(FORK_BOMB, limits)

    seen = read_json(agent)

    assert seen["errno"] == 11  # EAGAIN
    in_sandbox = snapshot(agent)  # close() must then take every one of them down
    assert len(in_sandbox) <= limits.pids + SUPERVISORS
    assert seen["forks"] <= limits.pids - 1  # the agent itself is one of them
    assert seen["forks"] >= limits.pids - 4  # it got close: this limit, not another, stopped it


BUSY_LOOP = r"""
print("ready", flush=True)
while True:
    pass
"""


def test_cpu_quota_caps_an_endless_loop(start_agent: StartAgent, read_line: ReadLine) -> None:
    agent = start_agent(BUSY_LOOP, Limits(cpu_cores=0.5))
    assert read_line(agent) == b"ready\n"
    before = agent.cpu_seconds()
    started = time.monotonic()

    time.sleep(1.0)

    after = agent.cpu_seconds()
    elapsed = time.monotonic() - started
    assert before is not None
    assert after is not None
    assert 0.05 * elapsed <= after - before <= 0.8 * elapsed
    assert agent.poll() is None  # still looping: it is close() that ends it


DAEMON = r"""
import os, sys, time
if os.fork() == 0:
    os.setsid()
    if os.fork() == 0:
        print("grandchild", flush=True)
        time.sleep(60)
    os._exit(0)
os.wait()
print("parent", flush=True)
time.sleep(float(sys.argv[1]) if len(sys.argv) > 1 else 60)
"""


def test_close_kills_a_detached_grandchild(
    start_agent: StartAgent, read_line: ReadLine, snapshot: Snapshot, still_alive: StillAlive
) -> None:
    agent = start_agent(DAEMON)
    assert {read_line(agent), read_line(agent)} == {b"grandchild\n", b"parent\n"}

    seen = snapshot(agent)
    # bubblewrap outside, its init, the agent and the grandchild (which init adopted).
    assert len(seen) == 4
    agent.close()

    assert agent.exit_reason() == "killed: stopped by the host"
    deadline = time.monotonic() + 2
    while still_alive(seen) and time.monotonic() < deadline:
        time.sleep(0.02)
    assert not still_alive(seen)


def test_sandbox_ends_with_its_first_program(
    start_agent: StartAgent, read_line: ReadLine, snapshot: Snapshot, still_alive: StillAlive
) -> None:
    agent = start_agent(DAEMON, args=("0.3",))
    assert {read_line(agent), read_line(agent)} == {b"grandchild\n", b"parent\n"}
    seen = snapshot(agent)
    assert len(seen) == 4

    assert agent.wait(5) == 0

    # The grandchild died with the sandbox's pid namespace, before anyone called close().
    deadline = time.monotonic() + 2
    while still_alive(seen) and time.monotonic() < deadline:
        time.sleep(0.02)
    assert not still_alive(seen)
    assert agent.exit_reason() == "exited with code 0"
