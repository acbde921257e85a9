"""ConnectX rules: gravity, wins in every direction, draws, refusals, configuration, JSON."""

from __future__ import annotations

import copy
import json
from typing import Any

import pytest

from botarena.games.base import IllegalActionError, State
from botarena.games.connectx import ConnectX
from botarena.games.settings import GameConfigError

GAME = ConnectX()
SMALL = {"rows": 5, "columns": 6, "inarow": 3}
MARKS = {".": 0, "X": 1, "O": 2}


def play(moves: list[int], config: dict[str, Any] | None = None, seed: int = 0) -> State:
    """The state after the players to move drop pieces in ``moves`` in turn."""
    state = GAME.initial_state(config or {}, seed)
    for column in moves:
        assert not GAME.is_terminal(state)
        (player,) = GAME.to_move(state)
        state = GAME.apply(state, {player: column})
    return state


def position(picture: list[str], config: dict[str, Any]) -> State:
    """A state holding the board drawn top row first; X has moved as often as O or once more."""
    state = GAME.initial_state(config, 0)
    board = [MARKS[cell] for row in picture for cell in row]
    state["board"] = board
    state["step"] = sum(1 for mark in board if mark)
    return state


def test_default_configuration_is_kaggles() -> None:
    assert GAME.default_configuration() == {
        "rows": 6,
        "columns": 7,
        "inarow": 4,
        "actTimeout": 2.0,
        "overageTime": 60.0,
        "episodeSteps": 1000,
        "agentTimeout": 60.0,
    }


def test_configure_merges_and_accepts_an_int_for_a_number() -> None:
    config = GAME.configure({"rows": 8, "actTimeout": 5})
    assert config["rows"] == 8
    assert config["columns"] == 7
    assert config["actTimeout"] == 5.0
    assert isinstance(config["actTimeout"], float)
    assert GAME.configure(config) == config


@pytest.mark.parametrize(
    ("overrides", "sentence"),
    [
        ({"rows": 2}, "configuration rows must be an integer from 3 to 20"),
        ({"rows": 21}, "configuration rows must be an integer from 3 to 20"),
        ({"rows": "6"}, "configuration rows must be an integer from 3 to 20"),
        ({"rows": 6.0}, "configuration rows must be an integer from 3 to 20"),
        ({"columns": True}, "configuration columns must be an integer from 3 to 20"),
        ({"inarow": 1}, "configuration inarow must be an integer from 2 to 20"),
        (
            {"rows": 3, "columns": 4, "inarow": 5},
            "configuration inarow must be at most the larger of rows and columns",
        ),
        (
            {"actTimeout": 0},
            "configuration actTimeout must be a number greater than 0 and at most 3600",
        ),
        ({"overageTime": -1}, "configuration overageTime must be a number from 0 to 86400"),
        (
            {"agentTimeout": float("nan")},
            "configuration agentTimeout must be a number greater than 0 and at most 3600",
        ),
        ({"episodeSteps": 0}, "configuration episodeSteps must be an integer from 1 to 100000"),
        (
            {"board": []},
            "configuration has no key 'board'; known keys: actTimeout, agentTimeout, "
            "columns, episodeSteps, inarow, overageTime, rows",
        ),
    ],
)
def test_configure_refuses_with_one_sentence(overrides: dict[str, Any], sentence: str) -> None:
    with pytest.raises(GameConfigError) as caught:
        GAME.configure(overrides)
    assert str(caught.value) == sentence
    assert isinstance(caught.value, ValueError)


def test_pieces_fall_and_stack() -> None:
    state = play([3, 3, 3])
    bottom, above, third = (row * 7 + 3 for row in (5, 4, 3))
    assert state["board"][bottom] == 1
    assert state["board"][above] == 2
    assert state["board"][third] == 1
    assert sum(1 for mark in state["board"] if mark) == 3


def test_players_alternate_starting_with_player_0() -> None:
    state = GAME.initial_state({}, 0)
    turns = []
    for column in [0, 1, 2, 3]:
        turns.append(GAME.to_move(state))
        state = GAME.apply(state, {GAME.to_move(state)[0]: column})
    assert turns == [[0], [1], [0], [1]]


def test_horizontal_win_at_the_right_edge() -> None:
    state = play([3, 3, 4, 4, 5], SMALL)
    assert GAME.is_terminal(state)
    assert GAME.winner(state) == 0
    assert GAME.scores(state) == [1.0, 0.0]
    assert GAME.to_move(state) == []


def test_vertical_win_reaching_the_top_for_player_1() -> None:
    state = play([5, 0, 5, 5, 1, 5, 2, 5], SMALL)
    assert state["board"][5] == 2  # the top cell of the last column
    assert GAME.winner(state) == 1
    assert GAME.scores(state) == [0.0, 1.0]


def test_descending_diagonal_into_the_bottom_right_corner() -> None:
    state = position(["......", "......", "...X..", "...OX.", "X..OO."], SMALL)
    assert not GAME.is_terminal(state)
    after = GAME.apply(state, {0: 5})
    assert after["lastMove"] == {"player": 0, "action": 5, "cell": 29}
    assert GAME.winner(after) == 0


def test_ascending_diagonal_from_the_bottom_left_corner() -> None:
    state = position(["......", "......", "..X...", ".XO...", ".OO..X"], SMALL)
    assert not GAME.is_terminal(state)
    after = GAME.apply(state, {0: 0})
    assert GAME.winner(after) == 0


def test_three_of_four_does_not_win() -> None:
    state = play([0, 6, 1, 6, 2])
    assert not GAME.is_terminal(state)
    assert GAME.winner(state) is None


def test_default_four_in_a_row_wins() -> None:
    assert GAME.winner(play([0, 6, 1, 6, 2, 6, 3])) == 0


def test_draw_on_a_full_board() -> None:
    state = play([0, 0, 0, 1, 1, 2, 2, 2, 1], {"rows": 3, "columns": 3, "inarow": 3})
    assert 0 not in state["board"]
    assert GAME.is_terminal(state)
    assert GAME.winner(state) is None
    assert GAME.scores(state) == [0.5, 0.5]


def test_episode_steps_end_the_game_as_a_draw() -> None:
    state = play([0, 1, 0], {"episodeSteps": 3})
    assert GAME.is_terminal(state)
    assert GAME.to_move(state) == []
    assert GAME.scores(state) == [0.5, 0.5]


def test_full_and_out_of_range_columns_are_refused() -> None:
    state = play([0] * 6)
    assert GAME.invalid_reason(state, 0, 0) == "column 0 is full"
    assert GAME.invalid_reason(state, 0, 7) == "column 7 is out of range 0..6"
    assert GAME.invalid_reason(state, 0, -1) == "column -1 is out of range 0..6"
    assert GAME.invalid_reason(state, 0, 1) is None
    with pytest.raises(IllegalActionError, match="column 0 is full"):
        GAME.apply(state, {0: 0})


@pytest.mark.parametrize("action", ["3", None, True, 3.5, [3], float("inf")])
def test_non_integer_actions_are_refused(action: Any) -> None:
    state = GAME.initial_state({}, 0)
    assert GAME.invalid_reason(state, 0, action) == "action must be an integer"


def test_an_integral_float_counts_as_the_column() -> None:
    state = GAME.initial_state({}, 0)
    assert GAME.invalid_reason(state, 0, 3.0) is None
    after = GAME.apply(state, {0: 3.0})
    assert after["lastMove"]["action"] == 3
    assert after == GAME.apply(state, {0: 3})


def test_only_the_player_to_move_may_play() -> None:
    state = GAME.initial_state({}, 0)
    assert GAME.invalid_reason(state, 1, 3) == "it is not player 1's turn"
    with pytest.raises(IllegalActionError):
        GAME.apply(state, {1: 3})
    with pytest.raises(IllegalActionError):
        GAME.apply(state, {0: 3, 1: 4})


def test_nothing_is_legal_once_the_game_is_over() -> None:
    state = play([3, 3, 4, 4, 5], SMALL)
    assert GAME.invalid_reason(state, 1, 0) == "the game is over"
    with pytest.raises(IllegalActionError, match="the game is over"):
        GAME.apply(state, {1: 0})


def test_apply_never_mutates_its_input() -> None:
    state = play([3, 4])
    before = copy.deepcopy(state)
    after = GAME.apply(state, {0: 3})
    assert state == before
    after["board"][0] = 9
    after["config"]["rows"] = 99
    assert state == before


def test_observations_per_player() -> None:
    state = play([3])
    first, second = GAME.observation(state, 0), GAME.observation(state, 1)
    assert first == {"board": state["board"], "mark": 1, "step": 1}
    assert second["mark"] == 2
    assert second["board"] == first["board"]
    first["board"][0] = 9
    assert state["board"][0] == 0
    with pytest.raises(ValueError, match="player 2"):
        GAME.observation(state, 2)


def test_state_observation_and_frame_survive_json() -> None:
    for state in (GAME.initial_state({}, 7), play([3, 3, 4, 4, 5], SMALL)):
        for value in (state, GAME.observation(state, 1), GAME.replay_frame(state)):
            assert json.loads(json.dumps(value)) == value


def test_replay_frame_describes_the_step() -> None:
    frame = GAME.replay_frame(play([3, 3, 4, 4, 5], SMALL))
    assert frame["step"] == 5
    assert frame["lastMove"] == {"player": 0, "action": 5, "cell": 29}
    assert frame["toMove"] == []
    assert frame["terminal"] is True
    assert frame["winner"] == 0
    assert len(frame["board"]) == 30
    assert GAME.replay_frame(GAME.initial_state({}, 0))["lastMove"] is None


def test_same_seed_same_states() -> None:
    moves = [3, 2, 3, 2, 4, 4, 1]
    assert play(moves, seed=5) == play(moves, seed=5)
    assert GAME.initial_state({}, 5)["seed"] == 5


def test_forfeit_gives_the_win_to_the_other_player() -> None:
    state = play([3])
    assert GAME.forfeit_scores(state, 0) == [0.0, 1.0]
    assert GAME.forfeit_scores(state, 1) == [1.0, 0.0]
    with pytest.raises(ValueError, match="player 2"):
        GAME.forfeit_scores(state, 2)


def test_render_shows_the_board() -> None:
    text = GAME.render(play([3, 3, 4, 4, 5], SMALL))
    assert text.splitlines() == [
        "0 1 2 3 4 5",
        ". . . . . .",
        ". . . . . .",
        ". . . . . .",
        ". . . O O .",
        ". . . X X X",
        "Step 5: player 0 (X) wins",
    ]
    assert GAME.render(GAME.initial_state({}, 0)).endswith("Step 0: player 0 (X) to move")


def test_render_aligns_two_digit_columns() -> None:
    header = GAME.render(GAME.initial_state({"columns": 12}, 0)).splitlines()[0]
    assert header.startswith(" 0  1")
    assert header.endswith("10 11")
