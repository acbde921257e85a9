"""Tic-tac-toe, Kaggle's rules: mark an empty cell of a 3x3 board; three in a line wins.

The action is a cell index 0..8, row-major from the top left. As in ConnectX an integral
float such as ``4.0`` counts as 4; booleans are refused.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, ClassVar

from botarena.games.base import State
from botarena.games.board import EMPTY, SYMBOLS, BoardGame
from botarena.games.settings import Setting, timing_settings

SIZE = 3


class TicTacToe(BoardGame):
    """Kaggle's TicTacToe: player 0 is mark 1 and moves first."""

    id: ClassVar[str] = "tictactoe"
    title: ClassVar[str] = "Tic-tac-toe"
    # Kaggle's default; nine moves fill the board, so it never cuts a game short.
    settings: ClassVar[tuple[Setting, ...]] = timing_settings(act_timeout=2, episode_steps=10)

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
