"""Replays recorded in process, step for step as the referee records them, for tests that need
a replay without playing agents."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from botarena.games.base import Game


def record(
    game: Game,
    moves: Sequence[Mapping[int, Any] | Any],
    config: Mapping[str, Any] | None = None,
    seed: int = 0,
    agents: Sequence[Mapping[str, Any]] | None = None,
    winner: int | str | None = "rules",
) -> dict[str, Any]:
    """The replay of ``moves`` (an action for the one player to move, or every mover's action
    by player); ``winner`` as the match recorded it, by default the rules' winner."""
    configuration = game.configure(config or {})
    state = game.initial_state(configuration, seed)
    steps: list[dict[str, Any]] = [{"step": 0, "actions": {}, "frame": game.replay_frame(state)}]
    for move in moves:
        movers = game.to_move(state)
        actions = dict(move) if isinstance(move, Mapping) else {movers[0]: move}
        state = game.apply(state, actions)
        steps.append(
            {
                "step": len(steps),
                "actions": {str(p): a for p, a in actions.items()},
                "frame": game.replay_frame(state),
            }
        )
    return {
        "game": game.id,
        "configuration": configuration,
        "seed": seed,
        "steps": steps,
        "winner": game.winner(state) if winner == "rules" else winner,
        "scores": list(game.scores(state)),
        "agents": list(agents or [{"status": "DONE", "reason": None}] * game.players),
    }
