"""Replays in words of matches the referee really played: the last text board is the final
state, the winning line is the one on the board, the result names the match's winner."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from botarena.executor.match import run_match
from botarena.executor.outcomes import MatchResult
from botarena.executor.prepare import PreparedAgent, prepare_agent
from botarena.executor.referee import RefereeOptions
from botarena.games.board import SYMBOLS
from botarena.games.registry import get_game
from botarena.games.replay_view import build_view

from support.runners import PlainRunner

FIRST_FREE = (
    "def agent(obs, conf):\n    return next(c for c in range(conf.columns) if obs.board[c] == 0)\n"
)
LAST_FREE = (
    "def agent(obs, conf):\n    return max(c for c in range(conf.columns) if obs.board[c] == 0)\n"
)
FIRST_CELL = "def agent(obs, conf):\n    return obs.board.index(0)\n"
ALWAYS = "def agent(obs, conf):\n    return {sign}\n"


def agent(tmp_path: Path, name: str, source: str) -> PreparedAgent:
    folder = tmp_path / name
    folder.mkdir()
    (folder / "main.py").write_text(source)
    return prepare_agent(folder, tmp_path / "cache")


def play(game_id: str, agents: list[PreparedAgent], **config: object) -> MatchResult:
    game = get_game(game_id)
    options = RefereeOptions(startup_timeout=20)
    return run_match(game, game.configure(config), agents, PlainRunner(), seed=3, options=options)


def text_marks(board_text: str, columns: int, header: bool) -> list[int]:
    glyph = {symbol: mark for mark, symbol in SYMBOLS.items()}
    rows = board_text.splitlines()[1:] if header else board_text.splitlines()
    return [glyph[row[i + 1]] for row in rows for i in range(0, 3 * columns, 3)]


def test_a_real_connectx_match(tmp_path: Path) -> None:
    result = play(
        "connectx", [agent(tmp_path, "lefty", FIRST_FREE), agent(tmp_path, "righty", LAST_FREE)]
    )
    assert result.winner == 0  # column 1 fills with Red first
    replay = json.loads(json.dumps(result.replay))
    view = build_view(get_game("connectx"), replay, ["lefty", "righty"])
    final = view["steps"][-1]
    assert final["frame"] == replay["steps"][-1]["frame"]
    assert text_marks(final["board"], 7, header=True) == result.final_state["board"]
    assert final["line"] == [14, 21, 28, 35] == view["result"]["line"]
    assert all(result.final_state["board"][cell] == 1 for cell in final["line"])
    assert view["result"]["text"].startswith("lefty (Red) wins with the line column 1 row 1")
    assert [s["move"] for s in view["steps"][1:3]] == [
        "Red drops in column 1",
        "Yellow drops in column 7",
    ]


def test_a_real_tictactoe_match(tmp_path: Path) -> None:
    result = play("tictactoe", [agent(tmp_path, "a", FIRST_CELL), agent(tmp_path, "b", FIRST_CELL)])
    view = build_view(get_game("tictactoe"), result.replay, ["ann", "ben"])
    final = view["steps"][-1]
    assert text_marks(final["board"], 3, header=False) == result.final_state["board"]
    # X takes cells 0, 2, 4, 6: the rising diagonal wins on the seventh move.
    assert result.winner == 0 and final["line"] == [2, 4, 6]
    assert view["result"]["text"] == (
        "ann (X) wins with the line the top-right corner, the centre and the bottom-left corner."
    )


def test_a_real_rps_match_and_a_forfeit(tmp_path: Path) -> None:
    paper, rock = (
        agent(tmp_path, "paper", ALWAYS.format(sign=1)),
        agent(tmp_path, "rock", ALWAYS.format(sign=0)),
    )
    result = play("rps", [paper, rock], episodeSteps=25)
    view = build_view(get_game("rps"), result.replay, ["papyrus", "stone"])
    assert result.winner == 0
    assert view["result"]["text"] == "papyrus (Player 1) wins, final score 25 to -25."
    assert view["steps"][-1]["board"].endswith("Score: papyrus 25, stone -25")
    assert view["steps"][1]["move"] == "paper beats rock: papyrus takes the round"

    wild = agent(tmp_path, "wild", ALWAYS.format(sign=7))
    result = play("rps", [paper, wild], episodeSteps=5)
    assert result.winner == 0
    view = build_view(get_game("rps"), result.replay, ["papyrus", "wild"])
    assert view["result"]["winner"] == 0
    assert view["result"]["text"].startswith(
        "papyrus (Player 1) wins, final score 0 to 0; wild (Player 2) made an illegal move:"
    )


@pytest.mark.parametrize("game_id", ["connectx", "tictactoe", "rps"])
def test_every_step_of_a_real_match_has_words(tmp_path: Path, game_id: str) -> None:
    source = FIRST_CELL if game_id == "tictactoe" else FIRST_FREE
    config: dict[str, object] = {}
    if game_id == "rps":
        source, config = ALWAYS.format(sign=2), {"episodeSteps": 50}
    agents = [agent(tmp_path, "one", source), agent(tmp_path, "two", source)]
    result = play(game_id, agents, **config)
    view = build_view(get_game(game_id), result.replay, ["one", "two"])
    assert len(view["steps"]) == result.turns + 1
    assert all(step["label"] and step["move"] and step["board"] for step in view["steps"])
