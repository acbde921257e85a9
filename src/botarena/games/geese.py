"""Hungry Geese, after Kaggle's game: 2 to 4 geese on a wrap-around grid, moving at once.

Every step each goose still alive moves one cell NORTH, SOUTH, EAST or WEST (leaving one edge
it comes back at the opposite one). Turning straight back is fatal. A goose whose head lands on
food grows by one; every ``hunger_rate`` steps each goose loses its tail; a goose with no cell
left is out. A goose whose head meets its own body or any cell of another goose is out (two
heads meeting take each other out). Food is put back on empty cells up to ``min_food`` after
every step. The game ends after ``episodeSteps`` steps or when at most one goose is left.

A goose's reward, as on Kaggle, grows while it lives: after step ``t`` a living goose has
``(t + 1) * (max_length + 1) + length``; a goose that is out keeps its last reward. So a goose
that lived longer always ranks above one that was out sooner, and length breaks the tie.

Cells are numbered ``row * columns + column`` from the top left. Randomness (starting cells,
new food) comes from the match's seed and the step number only, so a replay replays.

State keys: ``config``, ``seed``, ``step``, ``geese`` (each goose's cells, head first; empty
once out), ``food``, ``lastActions`` (each goose's last direction, or None) and ``rewards``.
"""

from __future__ import annotations

import random
from collections.abc import Mapping, Sequence
from typing import Any, ClassVar

from botarena.games.base import Game, GameConfigError, MoveText, State
from botarena.games.settings import Setting, integer, timing_settings

DIRECTIONS: dict[str, tuple[int, int]] = {
    "NORTH": (-1, 0),
    "SOUTH": (1, 0),
    "EAST": (0, 1),
    "WEST": (0, -1),
}
OPPOSITE = {"NORTH": "SOUTH", "SOUTH": "NORTH", "EAST": "WEST", "WEST": "EAST"}
# Never a colour alone: each seat has a name and a letter drawn on its goose.
SEAT_NAMES = ("Goose A", "Goose B", "Goose C", "Goose D")
SEAT_GLYPHS = ("A", "B", "C", "D")


def _rng(seed: int, step: int) -> random.Random:
    # A string seed is hashed the same way on every run and platform.
    return random.Random(f"geese:{seed}:{step}")  # noqa: S311 - a game's randomness


class HungryGeese(Game):
    """Kaggle's Hungry Geese for 2 to 4 players (4 when the match does not say)."""

    id: ClassVar[str] = "geese"
    title: ClassVar[str] = "Hungry Geese"
    players: ClassVar[int] = 4
    min_players: ClassVar[int] = 2
    max_players: ClassVar[int] = 4
    settings: ClassVar[tuple[Setting, ...]] = (
        integer("columns", 11, 3, 30),
        integer("rows", 7, 3, 30),
        integer("hunger_rate", 40, 1, 1000),
        integer("min_food", 2, 0, 20),
        integer("max_length", 99, 1, 1000),
        *timing_settings(act_timeout=1, episode_steps=200, overage_time=12),
    )
    renderer: ClassVar[str] = "geese"

    def check_configuration(self, config: dict[str, Any]) -> None:
        if config["rows"] * config["columns"] < self.max_players + config["min_food"]:
            raise GameConfigError("configuration rows and columns leave no room for every goose")

    # -- the rules -----------------------------------------------------------------------
    def initial_state(self, config: Mapping[str, Any], seed: int) -> State:
        return self.initial_state_for(config, seed, self.players)

    def initial_state_for(self, config: Mapping[str, Any], seed: int, players: int) -> State:
        self.check_player_count(players)
        checked = self.configure(config)
        cells = checked["rows"] * checked["columns"]
        starts = _rng(seed, 0).sample(range(cells), players)
        state: State = {
            "config": checked,
            "seed": seed,
            "step": 0,
            "geese": [[cell] for cell in starts],
            "food": [],
            "lastActions": [None] * players,
            "rewards": [0] * players,
        }
        self._add_food(state)
        self._reward_living(state)
        return state

    def to_move(self, state: State) -> list[int]:
        if self.is_terminal(state):
            return []
        return [p for p, goose in enumerate(state["geese"]) if goose]

    def observation(self, state: State, player: int) -> dict[str, Any]:
        self._check_seat(state, player)
        return {
            "index": player,
            "step": state["step"],
            "geese": [list(goose) for goose in state["geese"]],
            "food": list(state["food"]),
        }

    def invalid_reason(self, state: State, player: int, action: Any) -> str | None:
        if self.is_terminal(state):
            return "the game is over"
        if player not in self.to_move(state):
            return f"goose {player} is not in the game"
        if not isinstance(action, str) or action not in DIRECTIONS:
            return "action must be one of NORTH, SOUTH, EAST, WEST"
        return None

    def apply(self, state: State, actions: Mapping[int, Any]) -> State:
        self._check_actions(state, actions)
        config = state["config"]
        rows, columns = config["rows"], config["columns"]
        step = state["step"] + 1
        geese = [list(goose) for goose in state["geese"]]
        food = list(state["food"])
        last = list(state["lastActions"])
        for player, action in sorted(actions.items()):
            goose = geese[player]
            if last[player] is not None and OPPOSITE[action] == last[player]:
                geese[player] = []  # turned back on itself
                continue
            last[player] = action
            head = self._neighbour(goose[0], action, rows, columns)
            if head in food:
                food.remove(head)
            else:
                goose.pop()
            if head in goose:
                geese[player] = []  # ran into its own body
                continue
            goose.insert(0, head)
            if step % config["hunger_rate"] == 0:
                goose.pop()
            while len(goose) > config["max_length"]:
                goose.pop()
        occupied: dict[int, int] = {}
        for goose in geese:
            for cell in goose:
                occupied[cell] = occupied.get(cell, 0) + 1
        geese = [goose if goose and occupied[goose[0]] == 1 else [] for goose in geese]
        after: State = {
            "config": dict(config),
            "seed": state["seed"],
            "step": step,
            "geese": geese,
            "food": food,
            "lastActions": last,
            "rewards": list(state["rewards"]),
        }
        self._add_food(after)
        self._reward_living(after)
        return after

    def is_terminal(self, state: State) -> bool:
        living = sum(1 for goose in state["geese"] if goose)
        return bool(state["step"] >= state["config"]["episodeSteps"] - 1 or living <= 1)

    def scores(self, state: State) -> list[float]:
        return [float(reward) for reward in state["rewards"]]

    def winner(self, state: State) -> int | None:
        rewards = state["rewards"]
        best = max(rewards)
        return rewards.index(best) if rewards.count(best) == 1 else None

    def forfeit_scores(self, state: State, loser: int) -> list[float]:
        """The goose at fault gets 0, below every reward a goose can earn; the others keep
        theirs, so the match still ranks them."""
        self._check_seat(state, loser)
        return [0.0 if p == loser else float(r) for p, r in enumerate(state["rewards"])]

    # -- pictures and words ----------------------------------------------------------------
    def render(self, state: State) -> str:
        return f"Step {state['step']}\n{self.text_board(state)}"

    def replay_frame(self, state: State) -> dict[str, Any]:
        return {
            "step": state["step"],
            "geese": [list(goose) for goose in state["geese"]],
            "food": list(state["food"]),
            "rewards": list(state["rewards"]),
            "terminal": self.is_terminal(state),
        }

    def seat_name(self, player: int) -> str:
        return SEAT_NAMES[player] if 0 <= player < len(SEAT_NAMES) else super().seat_name(player)

    def seat_glyph(self, player: int) -> str:
        return SEAT_GLYPHS[player] if 0 <= player < len(SEAT_GLYPHS) else str(player + 1)

    def text_board(self, state: State, line: Sequence[int] = (), names: Sequence[str] = ()) -> str:
        """Heads as capital letters, bodies as small ones, food as ``*``, empty cells ``.``."""
        config = state["config"]
        rows, columns = config["rows"], config["columns"]
        cells = ["."] * (rows * columns)
        for cell in state["food"]:
            cells[cell] = "*"
        for player, goose in enumerate(state["geese"]):
            glyph = self.seat_glyph(player)
            for index, cell in enumerate(goose):
                cells[cell] = glyph if index == 0 else glyph.lower()
        lines = [" ".join(cells[r * columns : (r + 1) * columns]) for r in range(rows)]
        for player, goose in enumerate(state["geese"]):
            name = names[player] if player < len(names) else self.seat_name(player)
            alive = f"length {len(goose)}" if goose else "out"
            lines.append(f"{self.seat_glyph(player)}: {name}, {alive}")
        return "\n".join(lines)

    def describe_move(
        self, before: State, actions: Mapping[int, Any], after: State, names: Sequence[str]
    ) -> MoveText:
        moved = [f"{self.seat_glyph(p)} {str(a).lower()}" for p, a in sorted(actions.items())]
        out = [
            names[p] if p < len(names) else self.seat_name(p)
            for p, goose in enumerate(after["geese"])
            if before["geese"][p] and not goose
        ]
        sentence = f"Step {after['step']}: " + ", ".join(moved)
        if out:
            sentence += "; out: " + ", ".join(out)
        return MoveText(", ".join(moved), sentence)

    def result_detail(self, state: State) -> str | None:
        rewards = state["rewards"]
        return "rewards " + ", ".join(f"{self.seat_glyph(p)} {r}" for p, r in enumerate(rewards))

    # -- helpers -----------------------------------------------------------------------------
    @staticmethod
    def _neighbour(cell: int, action: str, rows: int, columns: int) -> int:
        d_row, d_column = DIRECTIONS[action]
        row, column = divmod(cell, columns)
        return ((row + d_row) % rows) * columns + (column + d_column) % columns

    @staticmethod
    def _add_food(state: State) -> None:
        config = state["config"]
        taken = {cell for goose in state["geese"] for cell in goose} | set(state["food"])
        free = [c for c in range(config["rows"] * config["columns"]) if c not in taken]
        missing = min(config["min_food"] - len(state["food"]), len(free))
        if missing > 0:
            state["food"] += _rng(state["seed"], state["step"] + 1).sample(free, missing)

    @staticmethod
    def _reward_living(state: State) -> None:
        per_step = state["config"]["max_length"] + 1
        for player, goose in enumerate(state["geese"]):
            if goose:
                state["rewards"][player] = (state["step"] + 1) * per_step + len(goose)

    def _check_seat(self, state: State, player: int) -> None:
        self._check_player(player)
        if player >= len(state["geese"]):
            seats = len(state["geese"])
            raise ValueError(f"player {player} is not in this game (0 to {seats - 1})")
