"""TicTacToe rules: every kind of line, draws, refusals, configuration, JSON and rendering."""

from __future__ import annotations

import copy
import json
from typing import Any

import pytest

from botarena.games.base import IllegalActionError, State
from botarena.games.settings import GameConfigError
from botarena.games.tictactoe import TicTacToe

GAME = TicTacToe()
# X 0, O 1, X 2, O 4, X 3, O 5, X 7, O 6, X 8 fills the board without a line.
DRAW = [0, 1, 2, 4, 3, 5, 7, 6, 8]


def play(moves: list[int], config: dict[str, Any] | None = None, seed: int = 0) -> State:
    """The state after the players to move mark the cells of ``moves`` in turn."""
    state = GAME.initial_state(config or {}, seed)
    for cell in moves:
        assert not GAME.is_terminal(state)
        (player,) = GAME.to_move(state)
        state = GAME.apply(state, {player: cell})
    return state


def test_default_configuration_is_kaggles() -> None:
    assert GAME.default_configuration() == {
        "actTimeout": 2.0,
        "overageTime": 60.0,
        "episodeSteps": 10,
        "agentTimeout": 60.0,
    }


def test_configure_refuses_unknown_keys_and_bad_values() -> None:
    with pytest.raises(GameConfigError) as caught:
        GAME.configure({"rows": 4})
    assert str(caught.value) == (
        "configuration has no key 'rows'; known keys: actTimeout, agentTimeout, "
        "episodeSteps, overageTime"
    )
    with pytest.raises(GameConfigError, match=r"^configuration actTimeout must be a number"):
        GAME.configure({"actTimeout": "2"})
    assert GAME.configure({"overageTime": 0})["overageTime"] == 0.0


@pytest.mark.parametrize(
    ("moves", "winner"),
    [
        ([0, 3, 1, 4, 2], 0),  # top row
        ([0, 2, 3, 5, 1, 8], 1),  # right column, for O
        ([0, 1, 4, 2, 8], 0),  # main diagonal
        ([0, 2, 1, 4, 3, 6], 1),  # anti-diagonal, for O
        ([4, 0, 3, 1, 5], 0),  # middle row
        ([1, 0, 4, 2, 7], 0),  # middle column
    ],
)
def test_three_in_a_line_wins(moves: list[int], winner: int) -> None:
    before = play(moves[:-1])
    assert not GAME.is_terminal(before)
    state = play(moves)
    assert GAME.is_terminal(state)
    assert GAME.winner(state) == winner
    assert GAME.scores(state) == [1.0 if player == winner else 0.0 for player in (0, 1)]
    assert GAME.to_move(state) == []


def test_draw_on_a_full_board() -> None:
    state = play(DRAW)
    assert GAME.is_terminal(state)
    assert GAME.winner(state) is None
    assert GAME.scores(state) == [0.5, 0.5]


def test_players_alternate() -> None:
    state = GAME.initial_state({}, 0)
    turns = []
    for cell in DRAW[:4]:
        turns.append(GAME.to_move(state))
        state = GAME.apply(state, {GAME.to_move(state)[0]: cell})
    assert turns == [[0], [1], [0], [1]]


def test_refusals() -> None:
    state = play([4])
    assert GAME.invalid_reason(state, 1, 4) == "cell 4 is taken"
    assert GAME.invalid_reason(state, 1, 9) == "cell 9 is out of range 0..8"
    assert GAME.invalid_reason(state, 1, "4") == "action must be an integer"
    assert GAME.invalid_reason(state, 1, False) == "action must be an integer"
    assert GAME.invalid_reason(state, 0, 0) == "it is not player 0's turn"
    assert GAME.invalid_reason(state, 1, 0.0) is None
    with pytest.raises(IllegalActionError, match="cell 4 is taken"):
        GAME.apply(state, {1: 4})


def test_apply_never_mutates_and_places_the_mark() -> None:
    state = play([4])
    before = copy.deepcopy(state)
    after = GAME.apply(state, {1: 0})
    assert state == before
    assert after["board"] == [2, 0, 0, 0, 1, 0, 0, 0, 0]
    assert after["step"] == 2


def test_observations_per_player() -> None:
    state = play([4, 0])
    assert GAME.observation(state, 0) == {"board": state["board"], "mark": 1, "step": 2}
    assert GAME.observation(state, 1)["mark"] == 2


def test_json_round_trip_and_determinism() -> None:
    state = play(DRAW[:5], seed=3)
    assert state == play(DRAW[:5], seed=3)
    for value in (state, GAME.observation(state, 0), GAME.replay_frame(state)):
        assert json.loads(json.dumps(value)) == value


def test_forfeit() -> None:
    assert GAME.forfeit_scores(play([4]), 1) == [1.0, 0.0]


def test_render_numbers_the_free_cells() -> None:
    assert GAME.render(play([0, 1, 4, 2, 8])).splitlines() == [
        " X | O | O",
        "---+---+---",
        " 3 | X | 5",
        "---+---+---",
        " 6 | 7 | X",
        "Step 5: player 0 (X) wins",
    ]
    assert GAME.render(play(DRAW)).endswith("Step 9: draw")
