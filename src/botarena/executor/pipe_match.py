"""One match played by the referee program: the agents are other containers of the match pod,
reached through named pipes in a folder all of them share (see :mod:`.pipes`)."""

from __future__ import annotations

import time
from pathlib import Path

from botarena.executor.match import platform_error
from botarena.executor.match_document import RefereeSpec
from botarena.executor.outcomes import MatchResult
from botarena.executor.pipes import PipeAgent, make_pipes
from botarena.executor.referee import Referee, RefereeOptions
from botarena.games.base import GameConfigError
from botarena.games.registry import UnknownGameError, get_game


def play_over_pipes(spec: RefereeSpec, root: Path) -> MatchResult:
    """Play ``spec`` with each agent behind ``root/p{player}``; the pipes are made if the
    pod's init step has not made them. A spec the game refuses raises ValueError; a pipe
    that cannot be opened is the platform's error, never an agent's loss."""
    started = time.monotonic()
    try:
        game = get_game(spec.game)
        configuration = game.configure(spec.configuration)
    except (UnknownGameError, GameConfigError) as exc:
        raise ValueError(str(exc)) from exc
    agents: list[PipeAgent] = []
    try:
        for folder in make_pipes(root, len(spec.agents)):
            agents.append(PipeAgent(folder))
    except OSError as exc:
        for agent in agents:
            agent.close()
        return platform_error(len(spec.agents), f"the agents' pipes failed: {exc}", started)
    options = RefereeOptions(startup_timeout=spec.startup_timeout, log_limit=spec.log_limit)
    return Referee(game, configuration, agents, seed=spec.seed, options=options).play()
