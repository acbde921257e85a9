"""What ConnectX and TicTacToe share: two players take turns putting marks on a grid.

Player 0 owns mark 1 and moves first, player 1 owns mark 2 (Kaggle's convention). The board
is a flat row-major list from the top row, 0 for an empty cell. A line of ``inarow`` marks
horizontally, vertically or diagonally wins; a full board without one is a draw.

State keys: ``config``, ``seed``, ``step`` (moves played), ``board``, ``winner`` (player or
None) and ``lastMove`` (``{"player", "action", "cell"}`` or None).
"""

from __future__ import annotations

from abc import abstractmethod
from collections.abc import Mapping, Sequence
from typing import Any

from botarena.games.base import Game, IllegalActionError, State, as_integer

EMPTY = 0
SYMBOLS = {EMPTY: ".", 1: "X", 2: "O"}
# Half of the directions suffice: each line is walked both ways from the new mark.
DIRECTIONS = ((0, 1), (1, 0), (1, 1), (1, -1))


def mark_of(player: int) -> int:
    """The mark a player puts on the board."""
    return player + 1


def makes_line(board: list[int], columns: int, cell: int, inarow: int) -> bool:
    """True when the mark at ``cell`` is part of ``inarow`` equal marks in a straight line."""
    rows = len(board) // columns
    row, column = divmod(cell, columns)
    mark = board[cell]
    for d_row, d_column in DIRECTIONS:
        count = 1
        for sign in (1, -1):
            r, c = row + sign * d_row, column + sign * d_column
            while 0 <= r < rows and 0 <= c < columns and board[r * columns + c] == mark:
                count += 1
                r, c = r + sign * d_row, c + sign * d_column
        if count >= inarow:
            return True
    return False


def line_cells(board: list[int], columns: int, cell: int, inarow: int) -> list[int]:
    """The cells of every line of at least ``inarow`` equal marks through ``cell``, sorted."""
    rows = len(board) // columns
    row, column = divmod(cell, columns)
    mark = board[cell]
    found: set[int] = set()
    for d_row, d_column in DIRECTIONS:
        cells = [cell]
        for sign in (1, -1):
            r, c = row + sign * d_row, column + sign * d_column
            while 0 <= r < rows and 0 <= c < columns and board[r * columns + c] == mark:
                cells.append(r * columns + c)
                r, c = r + sign * d_row, c + sign * d_column
        if len(cells) >= inarow:
            found.update(cells)
    return sorted(found)


class BoardGame(Game):
    """Turn-based two-player mark game; subclasses say where an action puts the mark."""

    @abstractmethod
    def grid(self, config: Mapping[str, Any]) -> tuple[int, int, int]:
        """``(rows, columns, inarow)`` for a checked configuration."""

    @abstractmethod
    def action_problem(self, state: State, action: int) -> str | None:
        """Why an integer action is illegal on this board, or None."""

    @abstractmethod
    def target_cell(self, state: State, action: int) -> int:
        """The board index where a legal action puts the mark."""

    def initial_state(self, config: Mapping[str, Any], seed: int) -> State:
        checked = self.configure(config)
        rows, columns, _ = self.grid(checked)
        return {
            "config": checked,
            "seed": seed,
            "step": 0,
            "board": [EMPTY] * (rows * columns),
            "winner": None,
            "lastMove": None,
        }

    def to_move(self, state: State) -> list[int]:
        if self.is_terminal(state):
            return []
        return [state["step"] % 2]

    def observation(self, state: State, player: int) -> dict[str, Any]:
        self._check_player(player)
        # Kaggle shares ``step`` with every agent of every game; some agents read it.
        return {"board": list(state["board"]), "mark": mark_of(player), "step": state["step"]}

    def invalid_reason(self, state: State, player: int, action: Any) -> str | None:
        if self.is_terminal(state):
            return "the game is over"
        if player not in self.to_move(state):
            return f"it is not player {player}'s turn"
        number = as_integer(action)
        if number is None:
            return "action must be an integer"
        return self.action_problem(state, number)

    def apply(self, state: State, actions: Mapping[int, Any]) -> State:
        self._check_actions(state, actions)
        (player,) = self.to_move(state)
        action = as_integer(actions[player])
        if action is None:  # unreachable: _check_actions refused it; this narrows the type
            raise IllegalActionError("action must be an integer")
        cell = self.target_cell(state, action)
        board = list(state["board"])
        board[cell] = mark_of(player)
        _, columns, inarow = self.grid(state["config"])
        won = makes_line(board, columns, cell, inarow)
        return {
            "config": dict(state["config"]),
            "seed": state["seed"],
            "step": state["step"] + 1,
            "board": board,
            "winner": player if won else None,
            "lastMove": {"player": player, "action": action, "cell": cell},
        }

    def is_terminal(self, state: State) -> bool:
        return (
            state["winner"] is not None
            or EMPTY not in state["board"]
            or state["step"] >= state["config"]["episodeSteps"]
        )

    def winner(self, state: State) -> int | None:
        winner: int | None = state["winner"]
        return winner

    def scores(self, state: State) -> list[float]:
        winner = self.winner(state)
        if winner is None:
            return [0.5, 0.5]
        return [1.0 if player == winner else 0.0 for player in range(self.players)]

    def replay_frame(self, state: State) -> dict[str, Any]:
        last = state["lastMove"]
        return {
            "step": state["step"],
            "board": list(state["board"]),
            "lastMove": None if last is None else dict(last),
            "toMove": self.to_move(state),
            "terminal": self.is_terminal(state),
            "winner": self.winner(state),
        }

    def status_line(self, state: State) -> str:
        """The last line of a rendering: whose turn it is, or how the game ended."""
        if not self.is_terminal(state):
            (player,) = self.to_move(state)
            symbol = SYMBOLS[mark_of(player)]
            return f"Step {state['step']}: player {player} ({symbol}) to move"
        winner = self.winner(state)
        if winner is None:
            return f"Step {state['step']}: draw"
        return f"Step {state['step']}: player {winner} ({SYMBOLS[mark_of(winner)]}) wins"

    # -- replays in words ----------------------------------------------------------------
    def seat_glyph(self, player: int) -> str:
        return SYMBOLS[mark_of(player)]

    def winning_line(self, state: State) -> list[int]:
        last = state["lastMove"]
        if state["winner"] is None or last is None:
            return []
        _, columns, inarow = self.grid(state["config"])
        return line_cells(state["board"], columns, last["cell"], inarow)

    def text_header(self, state: State) -> str | None:
        """A line above the text board (ConnectX numbers its columns), or None."""
        return None

    def text_board(self, state: State, line: Sequence[int] = (), names: Sequence[str] = ()) -> str:
        """One text row per board row; a cell of ``line`` shows as ``[X]``, others as `` X ``."""
        _, columns, _ = self.grid(state["config"])
        board = state["board"]
        marked = set(line)
        cells = [
            f"[{SYMBOLS[mark]}]" if index in marked else f" {SYMBOLS[mark]} "
            for index, mark in enumerate(board)
        ]
        rows = ["".join(cells[start : start + columns]) for start in range(0, len(board), columns)]
        header = self.text_header(state)
        return "\n".join(([header] if header is not None else []) + rows)
