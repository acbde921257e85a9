"""Tic-tac-toe, Kaggle's rules: mark an empty cell of a 3x3 board; three in a line wins.

The action is a cell index 0..8, row-major from the top left. As in ConnectX an integral
float such as ``4.0`` counts as 4; booleans are refused.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, ClassVar

from botarena.games.base import MoveText, State
from botarena.games.board import EMPTY, SYMBOLS, BoardGame, mark_of
from botarena.games.settings import Setting, timing_settings

SIZE = 3
# Each cell in words, row-major from the top left.
CELL_NAMES = (
    "the top-left corner",
    "the top edge",
    "the top-right corner",
    "the left edge",
    "the centre",
    "the right edge",
    "the bottom-left corner",
    "the bottom edge",
    "the bottom-right corner",
)


class TicTacToe(BoardGame):
    """Kaggle's TicTacToe: player 0 is mark 1 and moves first."""

    id: ClassVar[str] = "tictactoe"
    title: ClassVar[str] = "Tic-tac-toe"
    # Kaggle's default; nine moves fill the board, so it never cuts a game short.
    settings: ClassVar[tuple[Setting, ...]] = timing_settings(act_timeout=2, episode_steps=10)
    renderer: ClassVar[str] = "tictactoe"

    def grid(self, config: Mapping[str, Any]) -> tuple[int, int, int]:
        return SIZE, SIZE, SIZE

    def action_problem(self, state: State, action: int) -> str | None:
        cells = SIZE * SIZE
        if not 0 <= action < cells:
            return f"cell {action} is out of range 0..{cells - 1}"
        if state["board"][action] != EMPTY:
            return f"cell {action} is taken"
        return None

    def target_cell(self, state: State, action: int) -> int:
        return action

    def render(self, state: State) -> str:
        board = state["board"]
        # Empty cells show their number, which is the action that marks them.
        cells = [str(cell) if mark == EMPTY else SYMBOLS[mark] for cell, mark in enumerate(board)]
        rows = [" " + " | ".join(cells[start : start + SIZE]) for start in range(0, 9, SIZE)]
        return "\n---+---+---\n".join(rows) + "\n" + self.status_line(state)

    # -- replays in words ----------------------------------------------------------------
    def seat_name(self, player: int) -> str:
        return SYMBOLS[mark_of(player)]

    def describe_move(
        self, before: State, actions: Mapping[int, Any], after: State, names: Sequence[str]
    ) -> MoveText:
        last = after["lastMove"]
        name, cell = self.seat_name(last["player"]), CELL_NAMES[last["cell"]]
        return MoveText(f"{name}, {cell.removeprefix('the ')}", f"{name} takes {cell}")

    def describe_cells(self, state: State, cells: Sequence[int]) -> str:
        named = [CELL_NAMES[cell] for cell in cells]
        return ", ".join(named[:-1]) + " and " + named[-1] if len(named) > 1 else "".join(named)
