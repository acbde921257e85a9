"""A stored replay made ready for the web viewer: each step's frame with its move and board in
words, the winning line and the result in a sentence.

The server computes every text once, here, and the page embeds it: the player script and the
page without JavaScript then read the same words, and the result agrees with the match's own
(the winner recorded in the replay, forfeits included). docs/replays.md describes the shape.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from importlib import resources
from typing import Any

from botarena.games.base import Game, MoveText, State, placements
from botarena.games.replays import replay_states, seats_of

VIEW_VERSION = 1
START = MoveText("start", "The game starts")
# How an agent's fault reads after its name (the referee's AgentStatus values).
FAULTS = {"TIMEOUT": "ran out of time", "ERROR": "crashed", "INVALID": "made an illegal move"}
# A renderer name becomes a file name in a URL: nothing that could leave the folder.
_RENDERER_NAME = re.compile(r"^[a-z0-9][a-z0-9_-]{0,63}$")


class ReplayViewError(ValueError):
    """A replay that does not belong to this game or that the rules cannot replay."""


def display_names(game: Game, names: Sequence[str], seats: int | None = None) -> list[str]:
    """One name per seat (``seats`` of them, the game's usual number by default): the agents'
    names, a seat's name where none is given, and a seat number after a name that two seats
    share (an agent playing itself)."""
    count = game.players if seats is None else seats
    given = [str(names[p]) if p < len(names) and names[p] else "" for p in range(count)]
    shown = [name or game.seat_name(p) for p, name in enumerate(given)]
    return [f"{name} #{p + 1}" if shown.count(name) > 1 else name for p, name in enumerate(shown)]


def renderer_of(game: Game) -> str:
    """The game's renderer name, or ``generic`` when it names none usable."""
    name = getattr(game, "renderer", "generic")
    return name if isinstance(name, str) and _RENDERER_NAME.match(name) else "generic"


def renderer_script(game: Game) -> str | None:
    """The JS module a plug-in game ships in its own package (``renderer_resource``), or None."""
    where = getattr(game, "renderer_resource", None)
    if where is None:
        return None
    package, file_name = where
    return resources.files(package).joinpath(file_name).read_text(encoding="utf-8")


def build_view(game: Game, replay: dict[str, Any], names: Sequence[str] = ()) -> dict[str, Any]:
    """The viewer's data for ``replay``; ``names`` are the agents' names by seat."""
    if replay.get("game", game.id) != game.id:
        raise ReplayViewError(f"this replay is of the game {replay.get('game')!r}, not {game.id}")
    seats = display_names(game, names, seats_of(game, replay))
    steps: list[dict[str, Any]] = []
    previous: State | None = None
    try:
        for recorded, state in replay_states(game, replay):
            actions = {int(p): a for p, a in (recorded.get("actions") or {}).items()}
            move = (
                START if previous is None else game.describe_move(previous, actions, state, seats)
            )
            line = game.winning_line(state)
            steps.append(
                {
                    "step": len(steps),
                    "actions": {str(p): a for p, a in sorted(actions.items())},
                    "frame": game.replay_frame(state),
                    "label": move.label,
                    "move": move.sentence,
                    "board": game.text_board(state, line, seats),
                    "line": line,
                }
            )
            previous = state
    except (KeyError, TypeError, ValueError) as exc:
        raise ReplayViewError(f"this replay cannot be replayed by the rules: {exc}") from exc
    if previous is None:
        raise ReplayViewError("this replay has no steps")
    return {
        "version": VIEW_VERSION,
        "game": game.id,
        "title": game.title,
        "renderer": renderer_of(game),
        "configuration": game.configure(replay.get("configuration") or {}),
        "players": [
            {"seat": p, "name": seats[p], "label": game.seat_name(p), "glyph": game.seat_glyph(p)}
            for p in range(len(seats))
        ],
        "steps": steps,
        "result": describe_result(game, replay, previous, seats),
    }


def describe_result(
    game: Game, replay: dict[str, Any], final: State, names: Sequence[str]
) -> dict[str, Any]:
    """The winner (as the match recorded it), the winning line and the result in a sentence."""
    recorded = replay.get("winner", game.winner(final))
    seats = range(len(names))
    winner = recorded if isinstance(recorded, int) and recorded in seats else None
    agents = replay.get("agents") or []
    faults = [
        (p, agent)
        for p, agent in enumerate(agents)
        if isinstance(agent, dict) and agent.get("status", "DONE") != "DONE"
    ]
    line = game.winning_line(final) if winner is not None and not faults else []
    scores = replay.get("scores")
    scores = scores if isinstance(scores, list) and len(scores) == len(names) else None
    places = placements(winner, scores, len(names))
    if len(names) > 2:
        order = sorted(range(len(names)), key=lambda p: (places[p], p))
        sentence = "Places: " + ", ".join(f"{places[p]}. {who(game, names, p)}" for p in order)
    elif winner is None:
        sentence = "No winner" if faults else "Draw"
    else:
        sentence = f"{who(game, names, winner)} wins"
    if line:
        sentence += f" with the line {game.describe_cells(final, line)}"
    detail = game.result_detail(final)
    if detail:
        sentence += f", {detail}"
    for p, agent in faults:
        fault = FAULTS.get(str(agent.get("status")), "failed")
        reason = str(agent.get("reason") or "")
        # The referee's reason may already start with the fault ("ran out of time: 2 s …").
        said = reason if reason.startswith(fault) else f"{fault}: {reason}" if reason else fault
        sentence += f"; {who(game, names, p)} {said}"
    return {
        "winner": winner,
        "scores": scores,
        "places": places,
        "line": line,
        "text": sentence + ".",
    }


def who(game: Game, names: Sequence[str], player: int) -> str:
    """A seat in a sentence: the agent's name and its seat ("alice (Red)")."""
    seat = game.seat_name(player)
    return names[player] if names[player] == seat else f"{names[player]} ({seat})"
