"""Runs one match from prepared agents to a result, turning the platform's failures into
``error`` results that never count against an agent."""

from __future__ import annotations

import secrets
import time
from collections.abc import Sequence
from typing import Any

from botarena.executor.agent_process import AgentProcess
from botarena.executor.outcomes import AgentOutcome, MatchResult, MatchStatus
from botarena.executor.prepare import PreparedAgent
from botarena.executor.referee import Referee, RefereeOptions
from botarena.executor.runners.base import MatchRunner, Runner
from botarena.executor.sandbox import SandboxError
from botarena.executor.stop import StopSignal
from botarena.games.base import Game


def run_match(
    game: Game,
    configuration: dict[str, Any],
    agents: Sequence[PreparedAgent],
    runner: Runner | MatchRunner,
    *,
    seed: int = 0,
    options: RefereeOptions | None = None,
    stop: StopSignal | None = None,
    match_id: str | None = None,
) -> MatchResult:
    """Start every agent with ``runner`` and play; always cleans up every process.
    ``stop``, set from another thread, ends the match at once (the platform's error). A
    runner that plays whole matches elsewhere (a Kubernetes Job) is handed the match, named
    ``match_id`` (a fresh one when None, e.g. a build's validation match)."""
    game.check_player_count(len(agents))
    if isinstance(runner, MatchRunner):
        return runner.play_match(
            match_id or f"run-{secrets.token_hex(12)}",
            game,
            configuration,
            agents,
            seed=seed,
            stop=stop,
            startup_timeout=options.startup_timeout if options is not None else None,
        )
    started = time.monotonic()
    processes: list[AgentProcess] = []
    try:
        for player, agent in enumerate(agents):
            if stop is not None and stop.is_set():
                break
            processes.append(runner.start(agent, name=f"p{player}"))
    except (SandboxError, OSError) as exc:
        for process in processes:
            process.close()
        return platform_error(len(agents), f"could not start the agents: {exc}", started)
    if stop is not None and stop.is_set():
        for process in processes:
            process.close()
        return platform_error(len(agents), "the match was stopped before its end", started)
    referee = Referee(game, configuration, processes, seed=seed, options=options, stop=stop)
    return referee.play()


def platform_error(players: int, error: str, started: float) -> MatchResult:
    """A match that failed through no agent's fault."""
    return MatchResult(
        status=MatchStatus.ERROR,
        winner=None,
        scores=[0.0] * players,
        agents=[AgentOutcome() for _ in range(players)],
        turns=0,
        duration_ms=int((time.monotonic() - started) * 1000),
        error=error,
    )
