"""The example agents load as the platform loads them, and are as strong as they claim.

Games are played in-process with the real rules; every game seeds ``random`` first, so the
results are the same on every run (the search agent's depth still depends on the clock, which
is why its threshold leaves a margin).
"""

from __future__ import annotations

import ast
import random
import time
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import pytest

from botarena.games.registry import get_game
from botarena.sdk.loader import AgentFunction
from botarena.sdk.structs import structify

AGENTS_DIR = Path(__file__).resolve().parents[2] / "examples" / "agents"

Loader = Callable[[Path], AgentFunction]

PYTHON_AGENTS = (
    "connectx-random",
    "connectx-greedy",
    "connectx-search",
    "connectx-numpy",
    "tictactoe-random",
    "tictactoe-perfect",
    "rps-random",
    "rps-rotate",
    "rps-copy",
    "geese-greedy",
)
OTHER_AGENTS = ("executable-random",)


def play(
    game_id: str,
    agents: list[AgentFunction],
    seed: int,
    overrides: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    """Play one game to the end and return the final state; an illegal move raises."""
    game = get_game(game_id)
    config = game.configure(overrides or {})
    state = game.initial_state(config, seed)
    random.seed(seed)
    while not game.is_terminal(state):
        actions = {}
        for player in game.to_move(state):
            observation = game.observation(state, player)
            observation["remainingOverageTime"] = config["overageTime"]
            actions[player] = agents[player](structify(observation), structify(dict(config)))
        state = game.apply(state, actions)
    return state


def wins_of(
    game_id: str,
    first: AgentFunction,
    second: AgentFunction,
    games: int,
    overrides: Mapping[str, Any] | None = None,
) -> tuple[int, int, int]:
    """(wins of ``first``, wins of ``second``, draws), alternating who plays as player 0."""
    results = [0, 0, 0]
    game = get_game(game_id)
    for seed in range(games):
        swapped = seed % 2 == 1
        agents = [second, first] if swapped else [first, second]
        state = play(game_id, agents, seed, overrides)
        winner = game.winner(state)
        if winner is None:
            results[2] += 1
        else:
            results[winner ^ int(swapped)] += 1
    return results[0], results[1], results[2]


def test_every_example_has_a_folder() -> None:
    folders = {path.name for path in AGENTS_DIR.iterdir() if path.is_dir()}
    assert folders == set(PYTHON_AGENTS) | set(OTHER_AGENTS)
    assert (AGENTS_DIR / "README.md").is_file()


@pytest.mark.parametrize("name", PYTHON_AGENTS)
def test_example_loads_and_says_what_it_is(name: str, load_main: Loader) -> None:
    folder = AGENTS_DIR / name
    docstring = ast.get_docstring(ast.parse((folder / "main.py").read_text(encoding="utf-8")))
    assert docstring
    assert "Strength" in docstring
    if name == "connectx-numpy":
        return  # needs its requirements: loaded and played in the sandbox by the executor tests
    agent = load_main(folder)
    assert agent.__name__ == "agent"


def test_numpy_agent_declares_numpy_and_prints() -> None:
    folder = AGENTS_DIR / "connectx-numpy"
    requirements = (folder / "requirements.txt").read_text(encoding="utf-8").split()
    assert requirements == ["numpy"]
    tree = ast.parse((folder / "main.py").read_text(encoding="utf-8"))
    imported = {
        alias.name
        for node in ast.walk(tree)
        if isinstance(node, ast.Import)
        for alias in node.names
    }
    assert "numpy" in imported
    calls = {
        node.func.id
        for node in ast.walk(tree)
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Name)
    }
    assert "print" in calls


def test_greedy_beats_random(load_main: Loader) -> None:
    greedy = load_main(AGENTS_DIR / "connectx-greedy")
    rand = load_main(AGENTS_DIR / "connectx-random")
    wins, losses, draws = wins_of("connectx", greedy, rand, 40)
    assert wins >= 32, (wins, losses, draws)


def test_search_beats_greedy_within_its_time(load_main: Loader) -> None:
    search = load_main(AGENTS_DIR / "connectx-search")
    greedy = load_main(AGENTS_DIR / "connectx-greedy")
    act_timeout = 0.2
    search_times: list[float] = []
    timed = _timed(search, search_times)
    wins, losses, draws = wins_of("connectx", timed, greedy, 10, {"actTimeout": act_timeout})
    assert wins >= 7, (wins, losses, draws)
    # It aims at 35% of the turn; the whole turn is the real limit.
    assert max(search_times) < act_timeout, max(search_times)


def test_search_takes_a_win_and_blocks_a_loss(load_main: Loader) -> None:
    search = load_main(AGENTS_DIR / "connectx-search")
    config = structify(dict(get_game("connectx").configure({"actTimeout": 0.2})))
    board = [0] * 42
    for cell in (35, 28, 21):  # three of mark 1 stacked in column 0 (bottom rows)
        board[cell] = 1
    for cell in (41, 34, 27):  # three of mark 2 stacked in column 6
        board[cell] = 2
    # Mark 1 to move wins in column 0; mark 2 to move does too, in column 6.
    assert search(structify({"board": board, "mark": 1, "step": 6}), config) == 0
    assert search(structify({"board": board, "mark": 2, "step": 6}), config) == 6
    board[21] = 0  # now only mark 2 threatens: mark 1 must block column 6
    assert search(structify({"board": board, "mark": 1, "step": 5}), config) == 6


def test_perfect_tictactoe_never_loses(load_main: Loader) -> None:
    perfect = load_main(AGENTS_DIR / "tictactoe-perfect")
    rand = load_main(AGENTS_DIR / "tictactoe-random")
    wins, losses, draws = wins_of("tictactoe", perfect, rand, 30)
    assert losses == 0
    assert wins > draws  # a random opponent rarely holds a draw
    _, losses_to_itself, draws_with_itself = wins_of("tictactoe", perfect, perfect, 4)
    assert draws_with_itself == 4, losses_to_itself


def test_rotate_beats_a_repeater(load_main: Loader) -> None:
    rotate = load_main(AGENTS_DIR / "rps-rotate")

    def rock(observation: Any, configuration: Any) -> int:
        return 0

    state = play("rps", [rotate, rock], seed=1)
    steps = state["config"]["episodeSteps"]
    # Every round after the first is won; the first is random.
    assert state["totals"][0] >= steps - 2


def test_rotate_against_copy_is_decided_by_the_first_round(load_main: Loader) -> None:
    """Rotate wins a match iff copy does not win the first round: two times in three.

    Rotate plays copy's last sign + 1 and copy plays rotate's last sign, so the difference of
    their signs goes d -> 1 - d (mod 3). From d = 2 (copy won) it stays 2: copy wins every
    round. From d = 0 or 1 it alternates between 0 and 1: rotate wins every other round.
    """
    rotate = load_main(AGENTS_DIR / "rps-rotate")
    copy = load_main(AGENTS_DIR / "rps-copy")
    game = get_game("rps")
    first_round_decides = {True: 0, False: 0}
    for seed in range(30):
        history: list[tuple[int, int]] = []
        state = play("rps", [_recording(rotate, history), copy], seed)
        steps = state["config"]["episodeSteps"]
        copy_won_first = (history[0][0] - history[0][1]) % 3 == 2
        if copy_won_first:
            assert state["totals"][0] == -steps
            assert game.winner(state) == 1
        else:
            assert state["totals"][0] in (steps // 2, (steps + 1) // 2)
            assert game.winner(state) == 0
        first_round_decides[copy_won_first] += 1
    assert first_round_decides[True] > 0
    assert first_round_decides[False] > first_round_decides[True]


def _timed(agent: AgentFunction, times: list[float]) -> AgentFunction:
    def timed(observation: Any, configuration: Any) -> Any:
        started = time.perf_counter()
        try:
            return agent(observation, configuration)
        finally:
            times.append(time.perf_counter() - started)

    return timed


def _recording(agent: AgentFunction, history: list[tuple[int, int]]) -> AgentFunction:
    """``agent``, noting (its sign, the opponent's sign) of each finished round."""
    mine: list[int] = []

    def recording(observation: Any, configuration: Any) -> Any:
        if observation.lastOpponentAction is not None:
            history.append((mine[-1], observation.lastOpponentAction))
        action = agent(observation, configuration)
        mine.append(action)
        return action

    return recording


def test_greedy_goose_outlives_random_geese(load_main: Loader) -> None:
    greedy = load_main(AGENTS_DIR / "geese-greedy")
    directions = ["NORTH", "SOUTH", "EAST", "WEST"]

    def wanderer(observation: Any, configuration: Any) -> str:
        return random.choice(directions)

    game = get_game("geese")
    firsts = 0
    for seed in range(10):
        state = game.initial_state_for(game.configure({}), seed, 4)
        random.seed(seed)
        agents = [greedy, wanderer, wanderer, wanderer]
        while not game.is_terminal(state):
            actions = {}
            for player in game.to_move(state):
                seen = structify(game.observation(state, player))
                actions[player] = agents[player](seen, structify(dict(state["config"])))
            state = game.apply(state, actions)
        rewards = game.scores(state)
        firsts += rewards[0] == max(rewards)
    assert firsts >= 7, firsts
