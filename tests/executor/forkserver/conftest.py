"""Fixtures for fork-server tests: a runner that forks agents from zygotes, closed after each
test and then checked to have left nothing behind, and a runner that records every agent
process it starts.

``make_agent`` comes from the executor tests' conftest one folder up.
"""

from __future__ import annotations

import os
import time
from collections.abc import Iterator

import pytest

from botarena.executor.runners.local import LocalRunner
from executor.forkserver.forking import (
    LIMITS,
    CgroupRecorder,
    RecordingRunner,
    sandbox_processes,
)

from support.services import require_sandbox

IN_CI = os.environ.get("CI") == "true"
GONE_TIMEOUT = 3.0


@pytest.fixture
def fork_runner() -> Iterator[LocalRunner]:
    """The local runner with fork servers and tight limits. After the test it is closed, and
    then no sandbox process of ours may be left, nor any cgroup it made."""
    require_sandbox(cgroups=True)
    before = sandbox_processes()
    runner = LocalRunner(LIMITS, fork_server=True)
    assert runner.pool is not None
    made = CgroupRecorder(runner.pool.driver)
    runner.pool.driver = made
    try:
        yield runner
    finally:
        runner.close()
    deadline = time.monotonic() + GONE_TIMEOUT
    leaked = sandbox_processes() - before
    while leaked and time.monotonic() < deadline:
        time.sleep(0.02)
        leaked = sandbox_processes() - before
    assert not leaked, f"sandbox processes left running: {sorted(leaked)}"
    assert not made.left(), f"cgroups left behind: {made.left()}"


@pytest.fixture
def sandbox_runner(fork_runner: LocalRunner) -> LocalRunner:
    """Overrides the executor tests' runner, so that their tests run on fork servers here."""
    return fork_runner


@pytest.fixture
def recording(fork_runner: LocalRunner) -> RecordingRunner:
    return RecordingRunner(fork_runner)
