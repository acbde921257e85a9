"""ConnectX, Kaggle's rules: drop pieces into columns; ``inarow`` in a line wins.

The action is a column index. An integral float such as ``3.0`` counts as column 3, because
some JSON encoders write every number as a float; booleans and other floats are refused.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, ClassVar

from botarena.games.base import MoveText, State
from botarena.games.board import EMPTY, SYMBOLS, BoardGame
from botarena.games.settings import GameConfigError, Setting, integer, timing_settings


class ConnectX(BoardGame):
    """Kaggle's ConnectX: player 0 is mark 1 and moves first."""

    id: ClassVar[str] = "connectx"
    title: ClassVar[str] = "ConnectX"
    settings: ClassVar[tuple[Setting, ...]] = (
        integer("rows", 6, 3, 20),
        integer("columns", 7, 3, 20),
        integer("inarow", 4, 2, 20),
        *timing_settings(act_timeout=2, episode_steps=1000),
    )
    renderer: ClassVar[str] = "connectx"

    def check_configuration(self, config: dict[str, Any]) -> None:
        if config["inarow"] > max(config["rows"], config["columns"]):
            raise GameConfigError(
                "configuration inarow must be at most the larger of rows and columns"
            )

    def grid(self, config: Mapping[str, Any]) -> tuple[int, int, int]:
        return config["rows"], config["columns"], config["inarow"]

    def action_problem(self, state: State, action: int) -> str | None:
        columns = state["config"]["columns"]
        if not 0 <= action < columns:
            return f"column {action} is out of range 0..{columns - 1}"
        # The top row is stored first, so a column is full when its top cell is taken.
        if state["board"][action] != EMPTY:
            return f"column {action} is full"
        return None

    def target_cell(self, state: State, action: int) -> int:
        columns: int = state["config"]["columns"]
        board = state["board"]
        # Pieces fall: the lowest empty cell of the column is taken.
        for row in range(state["config"]["rows"] - 1, -1, -1):
            cell = row * columns + action
            if board[cell] == EMPTY:
                return cell
        raise ValueError(f"column {action} is full")

    def render(self, state: State) -> str:
        columns = state["config"]["columns"]
        width = len(str(columns - 1))
        board = state["board"]
        lines = [" ".join(f"{column:>{width}}" for column in range(columns))]
        for start in range(0, len(board), columns):
            row = board[start : start + columns]
            lines.append(" ".join(f"{SYMBOLS[mark]:>{width}}" for mark in row))
        lines.append(self.status_line(state))
        return "\n".join(lines)

    # -- replays in words: columns and rows count from 1, rows from the bottom, as people do
    def seat_name(self, player: int) -> str:
        return ("Red", "Yellow")[player]

    def text_header(self, state: State) -> str | None:
        return "".join(f"{column + 1:^3}" for column in range(state["config"]["columns"]))

    def describe_move(
        self, before: State, actions: Mapping[int, Any], after: State, names: Sequence[str]
    ) -> MoveText:
        last = after["lastMove"]
        name, column = self.seat_name(last["player"]), last["action"] + 1
        return MoveText(f"{name}, column {column}", f"{name} drops in column {column}")

    def describe_cells(self, state: State, cells: Sequence[int]) -> str:
        rows, columns = state["config"]["rows"], state["config"]["columns"]
        # Left to right, then upwards: the order a line is read on the board.
        places = sorted((cell % columns + 1, rows - cell // columns) for cell in cells)
        return ", ".join(f"column {column} row {row}" for column, row in places)
