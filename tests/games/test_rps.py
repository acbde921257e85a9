"""Rock-paper-scissors rules: round points, the tie threshold, observations, steps, refusals."""

from __future__ import annotations

import copy
import itertools
import json
from typing import Any

import pytest

from botarena.games.base import IllegalActionError, State
from botarena.games.rps import RockPaperScissors, round_points
from botarena.games.settings import GameConfigError

GAME = RockPaperScissors()
ROCK, PAPER, SCISSORS, SPOCK, LIZARD = range(5)


def play(rounds: list[tuple[int, int]], config: dict[str, Any] | None = None) -> State:
    """The state after both players showed the signs of each round."""
    state = GAME.initial_state(config or {}, 0)
    for first, second in rounds:
        state = GAME.apply(state, {0: first, 1: second})
    return state


def test_default_configuration_is_kaggles() -> None:
    assert GAME.default_configuration() == {
        "signs": 3,
        "tieRewardThreshold": 20,
        "episodeSteps": 1000,
        "actTimeout": 1.0,
        "overageTime": 60.0,
        "agentTimeout": 60.0,
    }


@pytest.mark.parametrize(
    ("overrides", "sentence"),
    [
        ({"signs": 6}, "configuration signs must be an integer from 3 to 5"),
        ({"episodeSteps": 0}, "configuration episodeSteps must be an integer from 1 to 100000"),
        (
            {"tieRewardThreshold": 0.5},
            "configuration tieRewardThreshold must be an integer from 1 to 1000",
        ),
    ],
)
def test_configure_refuses(overrides: dict[str, Any], sentence: str) -> None:
    with pytest.raises(GameConfigError) as caught:
        GAME.configure(overrides)
    assert str(caught.value) == sentence


@pytest.mark.parametrize(("mine", "theirs"), list(itertools.product(range(3), repeat=2)))
def test_round_points_for_every_pair(mine: int, theirs: int) -> None:
    expected = 0 if mine == theirs else 1 if (mine - theirs) % 3 == 1 else -1
    assert round_points(mine, theirs) == expected
    state = play([(mine, theirs)])
    assert state["totals"] == [expected, -expected]


def test_named_rounds() -> None:
    assert round_points(PAPER, ROCK) == 1
    assert round_points(ROCK, SCISSORS) == 1
    assert round_points(SCISSORS, PAPER) == 1
    assert round_points(ROCK, PAPER) == -1


def test_five_signs_follow_kaggles_rule() -> None:
    assert round_points(SPOCK, SCISSORS) == 1
    assert round_points(SPOCK, ROCK) == 1
    assert round_points(LIZARD, SPOCK) == 1
    assert round_points(LIZARD, PAPER) == 1
    assert round_points(ROCK, LIZARD) == 1
    assert round_points(PAPER, SPOCK) == 1
    # Every sign beats exactly two others, so no sign is better than another.
    for sign in range(5):
        assert sum(round_points(sign, other) for other in range(5)) == 0


def test_a_lead_below_the_threshold_is_a_draw() -> None:
    config = {"episodeSteps": 4, "tieRewardThreshold": 3}
    state = play([(PAPER, ROCK), (PAPER, ROCK), (ROCK, ROCK), (ROCK, ROCK)], config)
    assert GAME.is_terminal(state)
    assert GAME.scores(state) == [2.0, -2.0]
    assert GAME.winner(state) is None


def test_a_lead_at_the_threshold_wins() -> None:
    config = {"episodeSteps": 4, "tieRewardThreshold": 3}
    state = play([(PAPER, ROCK)] * 3 + [(ROCK, ROCK)], config)
    assert GAME.winner(state) == 0
    state = play([(ROCK, PAPER)] * 4, config)
    assert GAME.scores(state) == [-4.0, 4.0]
    assert GAME.winner(state) == 1


def test_last_opponent_action_per_player() -> None:
    state = GAME.initial_state({}, 0)
    assert GAME.observation(state, 0) == {"step": 0, "lastOpponentAction": None}
    state = GAME.apply(state, {0: ROCK, 1: SCISSORS})
    assert GAME.observation(state, 0) == {"step": 1, "lastOpponentAction": SCISSORS}
    assert GAME.observation(state, 1) == {"step": 1, "lastOpponentAction": ROCK}


def test_both_act_every_step_until_episode_steps() -> None:
    state = GAME.initial_state({"episodeSteps": 3}, 0)
    for step in range(3):
        assert state["step"] == step
        assert GAME.to_move(state) == [0, 1]
        assert not GAME.is_terminal(state)
        state = GAME.apply(state, {0: ROCK, 1: PAPER})
    assert state["step"] == 3
    assert GAME.is_terminal(state)
    assert GAME.to_move(state) == []
    assert GAME.invalid_reason(state, 0, ROCK) == "the game is over"


def test_refusals() -> None:
    state = GAME.initial_state({}, 0)
    assert GAME.invalid_reason(state, 0, 3) == "sign 3 is out of range 0..2"
    assert GAME.invalid_reason(state, 1, "rock") == "action must be an integer"
    assert GAME.invalid_reason(state, 1, True) == "action must be an integer"
    assert GAME.invalid_reason(state, 1, 2.0) is None
    with pytest.raises(IllegalActionError, match="exactly player"):
        GAME.apply(state, {0: ROCK})
    with pytest.raises(IllegalActionError, match="player 1: sign 7"):
        GAME.apply(state, {0: ROCK, 1: 7})


def test_apply_never_mutates() -> None:
    state = play([(ROCK, PAPER)])
    before = copy.deepcopy(state)
    GAME.apply(state, {0: SCISSORS, 1: PAPER})
    assert state == before


def test_json_round_trip_and_replay_frame() -> None:
    state = play([(ROCK, PAPER), (SCISSORS, PAPER)], {"episodeSteps": 2})
    frame = GAME.replay_frame(state)
    assert frame == {
        "step": 2,
        "actions": [SCISSORS, PAPER],
        "roundPoints": [1, -1],
        "totals": [0, 0],
        "terminal": True,
        "winner": None,
    }
    initial = GAME.initial_state({}, 0)
    assert GAME.replay_frame(initial)["actions"] is None
    for value in (state, initial, frame, GAME.observation(initial, 1)):
        assert json.loads(json.dumps(value)) == value


def test_determinism_and_forfeit() -> None:
    rounds = [(ROCK, PAPER), (PAPER, PAPER)]
    assert play(rounds) == play(rounds)
    assert GAME.forfeit_scores(play(rounds), 1) == [1.0, 0.0]


def test_render() -> None:
    text = GAME.render(play([(ROCK, PAPER)], {"episodeSteps": 1, "tieRewardThreshold": 1}))
    assert text.splitlines() == [
        "Round 1 of 1",
        "player 0 rock vs player 1 paper: player 1 takes it",
        "Totals: -1 to 1",
        "Player 1 wins",
    ]
    assert "A win needs a total of 20 or more" in GAME.render(GAME.initial_state({}, 0))
