"""The runner interface: start one prepared agent as a process the referee can talk to."""

from __future__ import annotations

from typing import Protocol

from botarena.executor.agent_process import AgentProcess
from botarena.executor.prepare import PreparedAgent


class Runner(Protocol):
    """Starts agents; says how isolated they are."""

    @property
    def isolation(self) -> str:
        """One sentence on the isolation the agents get (shown to people running matches)."""
        ...

    @property
    def sandboxed(self) -> bool:
        """False only where agents run without a sandbox (a participant's laptop)."""
        ...

    def start(self, agent: PreparedAgent, *, name: str) -> AgentProcess:
        """Start ``agent``; ``name`` labels its resources (unique within the running match)."""
        ...
