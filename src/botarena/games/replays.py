"""Replays played back: the states a recorded match went through, rebuilt by the game's rules
from its configuration, its seed and each step's actions."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from botarena.games.base import Game, IllegalActionError, State


def replay_states(game: Game, replay: dict[str, Any]) -> Iterator[tuple[dict[str, Any], State]]:
    """Each recorded step with the state after it, the first being the starting position.
    Stops at a step the rules refuse (the move that lost an agent the match)."""
    config = game.configure(replay.get("configuration") or {})
    state = game.initial_state_for(config, replay["seed"], seats_of(game, replay))
    for index, step in enumerate(replay.get("steps") or []):
        if index > 0:
            actions = {int(player): action for player, action in step["actions"].items()}
            try:
                state = game.apply(state, actions)
            except IllegalActionError:  # the move that ended the match
                return
        yield step, state


def seats_of(game: Game, replay: dict[str, Any]) -> int:
    """How many agents played the recorded match (the game's usual number for a replay that
    does not list them)."""
    agents = replay.get("agents")
    return len(agents) if isinstance(agents, list) and agents else game.players
