"""The runner interface: start one prepared agent as a process the referee can talk to."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Protocol, runtime_checkable

from botarena.executor.agent_process import AgentProcess
from botarena.executor.outcomes import MatchResult
from botarena.executor.prepare import PreparedAgent
from botarena.executor.stop import StopSignal
from botarena.games.base import Game


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


@runtime_checkable
class MatchRunner(Protocol):
    """Plays whole matches elsewhere (the referee too), e.g. one Kubernetes Job per match;
    the executor hands it the match instead of starting agents itself."""

    @property
    def isolation(self) -> str: ...

    @property
    def sandboxed(self) -> bool: ...

    def play_match(
        self,
        match_id: str,
        game: Game,
        configuration: dict[str, Any],
        agents: Sequence[PreparedAgent],
        *,
        seed: int,
        stop: StopSignal | None = None,
        startup_timeout: float | None = None,
    ) -> MatchResult:
        """The match's result; the platform's failures are ``error`` results (handed back).
        ``startup_timeout``: how long agents get to be ready (default: ``agentTimeout``)."""
        ...
