"""Kaggle's own ConnectX negamax agent runs unchanged on botarena.

The agent is taken from the official kaggle-environments wheel at test time (see
``support.kaggle``); nothing of Kaggle's is kept in the repository. Without network access the
tests are skipped, except under ``CI=true``, where they fail.
"""

from __future__ import annotations

import ast
import os
import random
import zipfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from botarena.games.registry import get_game
from botarena.sdk.loader import AgentFunction
from botarena.sdk.structs import structify

from support.kaggle import (
    CONNECTX_MEMBER,
    WHEEL_NAME,
    KaggleWheelError,
    extract_function,
    kaggle_negamax_folder,
)

# The first test pays for the download (about 65 MB).
pytestmark = pytest.mark.timeout(900)

AGENTS_DIR = Path(__file__).resolve().parents[2] / "examples" / "agents"

Loader = Callable[[Path], AgentFunction]


@pytest.fixture(scope="session")
def kaggle_negamax(download_cache: Path) -> Path:
    try:
        return kaggle_negamax_folder(download_cache)
    except KaggleWheelError as exc:
        if exc.network and os.environ.get("CI") != "true":
            pytest.skip(f"the package index cannot be reached: {exc}")
        pytest.fail(f"Kaggle's negamax agent could not be prepared: {exc}")


def connectx_config() -> Any:
    return structify(dict(get_game("connectx").configure({})))


def legal_columns(board: list[int], columns: int) -> list[int]:
    return [column for column in range(columns) if board[column] == 0]


def test_folder_holds_negamax_and_what_it_needs_only(kaggle_negamax: Path) -> None:
    text = (kaggle_negamax / "main.py").read_text(encoding="utf-8")
    tree = ast.parse(text)
    names = []
    for statement in tree.body:
        if isinstance(statement, ast.FunctionDef):
            names.append(statement.name)
        elif isinstance(statement, ast.ImportFrom):
            names += [f"{statement.module}.{alias.name}" for alias in statement.names]
        elif isinstance(statement, ast.Assign):
            names += [target.id for target in statement.targets if isinstance(target, ast.Name)]
    assert names == ["random.choice", "EMPTY", "play", "is_win", "negamax_agent"]


def test_text_is_kaggles_unchanged(kaggle_negamax: Path, download_cache: Path) -> None:
    with zipfile.ZipFile(download_cache / WHEEL_NAME) as archive:
        original = archive.read(CONNECTX_MEMBER).decode("utf-8")
    text = (kaggle_negamax / "main.py").read_text(encoding="utf-8")
    tree = ast.parse(text)
    for statement in tree.body:
        segment = ast.get_source_segment(text, statement)
        assert segment is not None
        assert segment in original


def test_loads_as_the_platform_loads_it(kaggle_negamax: Path, load_main: Loader) -> None:
    agent = load_main(kaggle_negamax)
    assert agent.__name__ == "negamax_agent"


def test_moves_legally_on_empty_and_mid_game_boards(
    kaggle_negamax: Path, load_main: Loader
) -> None:
    agent = load_main(kaggle_negamax)
    config = connectx_config()
    random.seed(3)
    empty = [0] * (config.rows * config.columns)
    observation = {"board": empty, "mark": 1, "step": 0, "remainingOverageTime": 60.0}
    assert agent(structify(observation), config) in legal_columns(empty, config.columns)
    # Column 6 is full; mark 2, to move, has 2 2 2 on the bottom row and wins in column 3.
    mid_game = [
        0, 0, 0, 0, 0, 0, 1,
        0, 0, 0, 0, 0, 0, 2,
        0, 0, 0, 0, 0, 0, 1,
        0, 0, 0, 0, 0, 0, 2,
        1, 0, 0, 0, 0, 1, 1,
        2, 2, 2, 0, 1, 1, 2,
    ]  # fmt: skip
    observation = {"board": mid_game, "mark": 2, "step": 13, "remainingOverageTime": 60.0}
    column = agent(structify(observation), config)
    assert column in legal_columns(mid_game, config.columns)
    assert column == 3


def test_plays_a_whole_game_against_random(kaggle_negamax: Path, load_main: Loader) -> None:
    negamax = load_main(kaggle_negamax)
    rand = load_main(AGENTS_DIR / "connectx-random")
    game = get_game("connectx")
    config = game.configure({})
    state = game.initial_state(config, seed=0)
    random.seed(0)
    agents = [negamax, rand]
    while not game.is_terminal(state):
        (player,) = game.to_move(state)
        observation = dict(game.observation(state, player), remainingOverageTime=60.0)
        action = agents[player](structify(observation), structify(dict(config)))
        state = game.apply(state, {player: action})  # raises on an illegal move
    assert game.winner(state) == 0


def test_extraction_follows_what_the_function_reads() -> None:
    source = """
import json
import os.path as osp
from random import choice, randint

BASE = 10
LIMIT = BASE * 2
unused = json.dumps({})


def helper(x, bound=LIMIT):
    return min(x, bound)


def unrelated():
    return randint(0, 1)


def target(obs, config):
    json = 3  # a local that shadows the module's name does not need the import

    def inner():
        return helper(json) + choice([1])

    return inner()
"""
    text = extract_function(source, "target")
    assert text.endswith("\n")
    assert text.rstrip("\n").split("\n\n\n") == [
        "from random import choice, randint",
        "BASE = 10",
        "LIMIT = BASE * 2",
        "def helper(x, bound=LIMIT):\n    return min(x, bound)",
        source[source.index("def target") :].rstrip("\n"),
    ]
    namespace: dict[str, Any] = {}
    exec(compile(text, "<extracted>", "exec"), namespace)  # noqa: S102 - our own test text
    assert namespace["target"](None, None) == 4


def test_extraction_refuses_a_missing_function() -> None:
    with pytest.raises(KaggleWheelError, match="no module-level function"):
        extract_function("def other():\n    pass\n", "target")
