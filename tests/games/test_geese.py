"""Hungry Geese rules: moving and wrapping, eating, hunger, collisions, the end, rewards and
places, and the number of players."""

from __future__ import annotations

import pytest

from botarena.games.base import IllegalActionError, State, placements
from botarena.games.geese import HungryGeese
from botarena.games.replay_view import build_view

GAME = HungryGeese()
COLUMNS = 11


def cell(row: int, column: int) -> int:
    return row * COLUMNS + column


def position(geese: list[list[int]], food: list[int], step: int = 0, **config: int) -> State:
    """A hand-made state on the default 7 x 11 board."""
    state = GAME.initial_state_for(config, 0, len(geese))
    state["geese"] = [list(goose) for goose in geese]
    state["food"] = list(food)
    state["step"] = step
    state["lastActions"] = [None] * len(geese)
    return state


def test_configuration_is_kaggles_and_players_are_two_to_four() -> None:
    config = GAME.default_configuration()
    assert (config["rows"], config["columns"], config["hunger_rate"]) == (7, 11, 40)
    assert (config["min_food"], config["episodeSteps"]) == (2, 200)
    assert GAME.players == 4 and GAME.player_range() == (2, 4)
    for players in (2, 3, 4):
        state = GAME.initial_state_for({}, 7, players)
        assert len(state["geese"]) == players
        assert len(state["food"]) == 2
        cells = [c for goose in state["geese"] for c in goose] + state["food"]
        assert len(set(cells)) == len(cells)  # nothing starts on anything else
    for players in (1, 5):
        with pytest.raises(ValueError, match="2 to 4 agents"):
            GAME.initial_state_for({}, 7, players)


def test_same_seed_same_game_and_observation_is_kaggles() -> None:
    assert GAME.initial_state_for({}, 3, 4) == GAME.initial_state_for({}, 3, 4)
    state = GAME.initial_state_for({}, 3, 3)
    seen = GAME.observation(state, 2)
    assert set(seen) == {"index", "step", "geese", "food"}
    assert seen["index"] == 2
    with pytest.raises(ValueError, match="not in this game"):
        GAME.observation(state, 3)


def test_moves_wrap_around_the_edges() -> None:
    state = position([[cell(0, 0)], [cell(6, 10)]], [cell(3, 5), cell(3, 6)])
    after = GAME.apply(state, {0: "NORTH", 1: "EAST"})
    assert after["geese"] == [[cell(6, 0)], [cell(6, 0)]] or after["geese"][0] == []
    state = position([[cell(0, 0)], [cell(3, 3)]], [cell(5, 5), cell(5, 6)])
    after = GAME.apply(state, {0: "WEST", 1: "SOUTH"})
    assert after["geese"] == [[cell(0, 10)], [cell(4, 3)]]


def test_eating_grows_and_food_comes_back() -> None:
    state = position([[cell(2, 2)], [cell(5, 5)]], [cell(2, 3), cell(0, 0)])
    after = GAME.apply(state, {0: "EAST", 1: "NORTH"})
    assert after["geese"][0] == [cell(2, 3), cell(2, 2)]
    assert cell(2, 3) not in after["food"]
    assert len(after["food"]) == 2
    assert state["geese"][0] == [cell(2, 2)]  # the given state is left untouched


def test_turning_back_and_biting_itself_take_a_goose_out() -> None:
    state = position([[cell(2, 3), cell(2, 2)], [cell(5, 5)], [cell(0, 8)]], [cell(6, 0)])
    state["lastActions"] = ["EAST", None, None]
    after = GAME.apply(state, {0: "WEST", 1: "NORTH", 2: "SOUTH"})
    assert after["geese"][0] == []
    assert GAME.to_move(after) == [1, 2]
    curled = [cell(2, 2), cell(2, 3), cell(3, 3), cell(3, 2), cell(3, 1)]
    state = position([curled, [cell(5, 8)]], [cell(0, 0)])
    state["lastActions"] = ["NORTH", None]
    assert GAME.apply(state, {0: "SOUTH"} | {1: "NORTH"})["geese"][0] == []  # turned back
    state["lastActions"] = ["WEST", None]
    assert GAME.apply(state, {0: "SOUTH", 1: "NORTH"})["geese"][0] == []  # into its body


def test_heads_meeting_take_both_out_and_bodies_stop_heads() -> None:
    state = position([[cell(1, 1)], [cell(1, 3)], [cell(4, 4), cell(4, 5)]], [cell(6, 6)])
    after = GAME.apply(state, {0: "EAST", 1: "WEST", 2: "WEST"})
    assert after["geese"][0] == [] and after["geese"][1] == []
    assert GAME.is_terminal(after)  # one goose left
    state = position([[cell(4, 3)], [cell(3, 5), cell(4, 5), cell(5, 5)]], [cell(0, 0)])
    after = GAME.apply(state, {0: "EAST", 1: "NORTH"})
    assert after["geese"][0] == [cell(4, 4)]  # the tail moved away: no collision
    state = position([[cell(4, 4)], [cell(3, 5), cell(4, 5), cell(5, 5)]], [cell(0, 0)])
    after = GAME.apply(state, {0: "EAST", 1: "NORTH"})
    assert after["geese"][0] == []  # into the other's body


def test_hunger_shortens_every_hunger_rate_steps() -> None:
    state = position([[cell(2, 2), cell(2, 1)], [cell(5, 5)]], [cell(0, 0)], step=39)
    after = GAME.apply(state, {0: "EAST", 1: "NORTH"})
    assert after["step"] == 40
    assert after["geese"][0] == [cell(2, 3)]
    assert after["geese"][1] == []  # length 1: starved
    assert GAME.is_terminal(after)


def test_rewards_rank_by_survival_then_length() -> None:
    state = position([[cell(1, 1)], [cell(1, 3)], [cell(4, 4)], [cell(6, 6)]], [cell(6, 7)])
    after = GAME.apply(state, {0: "EAST", 1: "WEST", 2: "NORTH", 3: "EAST"})
    # Geese 0 and 1 met head on at step 1 and keep their step-0 rewards; 3 ate.
    assert after["rewards"][:2] == [state["rewards"][0], state["rewards"][1]]
    assert after["rewards"][2:] == [2 * 100 + 1, 2 * 100 + 2]
    places = placements(GAME.winner(after), GAME.scores(after), 4)
    assert places == [3, 3, 2, 1]
    assert GAME.winner(after) == 3


def test_the_game_ends_at_episode_steps_and_refuses_bad_actions() -> None:
    state = GAME.initial_state_for({"episodeSteps": 3}, 1, 2)
    assert GAME.invalid_reason(state, 0, "UP") is not None
    assert GAME.invalid_reason(state, 0, 1) is not None
    with pytest.raises(IllegalActionError):
        GAME.apply(state, {0: "NORTH"})
    steps = 0
    while not GAME.is_terminal(state):
        state = GAME.apply(state, dict.fromkeys(GAME.to_move(state), "NORTH"))
        steps += 1
    assert steps <= 2 and GAME.to_move(state) == []


def test_forfeit_puts_the_one_at_fault_last() -> None:
    state = GAME.initial_state_for({}, 5, 4)
    scores = GAME.forfeit_scores(state, 2)
    assert placements(None, scores, 4) == [1, 1, 4, 1]


def test_placements_keep_two_seats_by_the_winner() -> None:
    assert placements(0, [5.0, -5.0], 2) == [1, 2]
    assert placements(None, [5.0, -5.0], 2) == [1, 1]  # rps: a draw below the threshold
    assert placements(None, [3.0, 1.0, 3.0, 0.0], 4) == [1, 3, 1, 4]


def test_replay_view_shows_every_goose_with_its_place() -> None:
    state = GAME.initial_state_for({"episodeSteps": 4}, 9, 4)
    steps = [{"step": 0, "actions": {}, "frame": GAME.replay_frame(state)}]
    while not GAME.is_terminal(state):
        actions = dict.fromkeys(GAME.to_move(state), "SOUTH")
        state = GAME.apply(state, actions)
        steps.append({"step": len(steps), "actions": {str(p): a for p, a in actions.items()}})
    replay = {
        "game": "geese",
        "configuration": {"episodeSteps": 4},
        "seed": 9,
        "steps": steps,
        "winner": GAME.winner(state),
        "scores": GAME.scores(state),
        "agents": [{"status": "DONE"}] * 4,
    }
    view = build_view(GAME, replay, ["ann", "bob", "cid", "dee"])
    assert [p["glyph"] for p in view["players"]] == ["A", "B", "C", "D"]
    assert view["renderer"] == "geese"
    assert view["result"]["text"].startswith("Places: 1. ")
    assert len(view["result"]["places"]) == 4
    assert "A: ann" in view["steps"][0]["board"]
