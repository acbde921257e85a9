"""A runner for referee tests that starts agents as plain processes (fast; no isolation)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from botarena.executor.agent_process import AgentProcess
from botarena.executor.prepare import PreparedAgent
from botarena.executor.runners.local import agent_spec
from botarena.executor.sandbox import Limits, spawn_unsandboxed


class PlainRunner:
    """Runs the same command the sandbox would, directly: only for the tests' own agents."""

    isolation = "no sandbox (tests of the referee)"
    sandboxed = False

    def start(self, agent: PreparedAgent, *, name: str) -> AgentProcess:
        del name
        return spawn_unsandboxed(agent_spec(agent, sandboxed=False), Limits())


# ``runnable(folder, cache)``: an agent folder made ready for the runner a test uses.
Runnable = Callable[[Path, Path], PreparedAgent]
