"""Replays in words for the web viewer: boards as text, moves, winning lines and results."""

from __future__ import annotations

import json
import sys
from collections.abc import Mapping
from pathlib import Path
from typing import Any, ClassVar

import pytest

import botarena
from botarena.games.base import Game, State
from botarena.games.connectx import ConnectX
from botarena.games.registry import BUILTIN_GAMES, get_game
from botarena.games.replay_view import (
    ReplayViewError,
    build_view,
    display_names,
    renderer_of,
    renderer_script,
)
from botarena.games.rps import RockPaperScissors
from botarena.games.settings import Setting, timing_settings
from botarena.games.tictactoe import TicTacToe

from support.replays import record

STATIC = Path(botarena.__file__).parent / "web" / "static" / "replay"
GLYPHS = {".": 0, "X": 1, "O": 2}


def grid_of(text: str, columns: int, header: bool) -> list[int]:
    """The marks a text board shows, read three characters a cell; ``[X]`` counts as X."""
    rows = text.splitlines()[1:] if header else text.splitlines()
    cells: list[int] = []
    for row in rows:
        assert len(row) == 3 * columns, row
        cells += [GLYPHS[row[i + 1]] for i in range(0, len(row), 3)]
    return cells


def marked(text: str) -> int:
    return text.count("[")


def test_every_builtin_game_names_a_renderer_the_static_folder_holds() -> None:
    for info in BUILTIN_GAMES:
        name = renderer_of(get_game(info.id))
        assert name == info.id
        assert (STATIC / f"{name}.js").is_file()
    assert (STATIC / "generic.js").is_file() and (STATIC / "player.js").is_file()


def test_connectx_view_agrees_with_the_final_state() -> None:
    game = ConnectX()
    replay = record(game, [3, 3, 4, 4, 5, 5, 6])
    view = json.loads(json.dumps(build_view(game, replay, ["alice", "bob"])))
    steps = view["steps"]
    assert [s["step"] for s in steps] == list(range(8))
    final = steps[-1]
    assert final["frame"] == replay["steps"][-1]["frame"]
    assert grid_of(final["board"], 7, header=True) == final["frame"]["board"]
    assert final["board"].splitlines()[0].split() == [str(c) for c in range(1, 8)]
    assert final["line"] == [38, 39, 40, 41] and marked(final["board"]) == 4
    assert [s["line"] for s in steps[:-1]] == [[]] * 7
    assert steps[1]["move"] == "Red drops in column 4"
    assert steps[1]["label"] == "Red, column 4"
    assert steps[2]["move"] == "Yellow drops in column 4"
    assert final["move"] == "Red drops in column 7"
    assert steps[0]["move"] == "The game starts"
    result = view["result"]
    assert result["winner"] == 0 and result["line"] == [38, 39, 40, 41]
    assert result["text"].startswith("alice (Red) wins with the line column 4 row 1,")
    assert "column 7 row 1" in result["text"] and "bob" not in result["text"]
    assert view["renderer"] == "connectx" and view["configuration"]["columns"] == 7
    assert [(p["label"], p["glyph"], p["name"]) for p in view["players"]] == [
        ("Red", "X", "alice"),
        ("Yellow", "O", "bob"),
    ]


@pytest.mark.parametrize(
    ("moves", "line"),
    [
        ([0, 1, 0, 1, 0, 1, 0], [14, 21, 28, 35]),  # a column, bottom four
        ([0, 1, 1, 2, 2, 3, 2, 3, 3, 6, 3], [17, 23, 29, 35]),  # a diagonal rising to the right
    ],
)
def test_connectx_winning_lines_in_other_directions(moves: list[int], line: list[int]) -> None:
    game = ConnectX()
    view = build_view(game, record(game, moves), ["a", "b"])
    final = view["steps"][-1]
    assert final["line"] == line == view["result"]["line"]
    assert marked(final["board"]) == len(line)
    assert grid_of(final["board"], 7, header=True) == final["frame"]["board"]


def test_connectx_five_in_a_row_marks_all_five() -> None:
    game = ConnectX()
    # Red fills columns 1, 2, 4, 5 on the bottom row, then 3 joins them into five.
    view = build_view(game, record(game, [0, 0, 1, 1, 3, 3, 4, 4, 2]), ["a", "b"])
    assert view["steps"][-1]["line"] == [35, 36, 37, 38, 39]


def test_tictactoe_moves_in_words_and_a_diagonal_win() -> None:
    game = TicTacToe()
    view = build_view(game, record(game, [4, 1, 0, 2, 8]), ["xena", "otto"])
    moves = [s["move"] for s in view["steps"][1:]]
    assert moves == [
        "X takes the centre",
        "O takes the top edge",
        "X takes the top-left corner",
        "O takes the top-right corner",
        "X takes the bottom-right corner",
    ]
    final = view["steps"][-1]
    assert final["label"] == "X, bottom-right corner"
    assert grid_of(final["board"], 3, header=False) == final["frame"]["board"]
    assert final["line"] == [0, 4, 8]
    assert view["result"]["text"] == (
        "xena (X) wins with the line the top-left corner, the centre and the bottom-right corner."
    )


def test_tictactoe_draw_says_draw_and_marks_nothing() -> None:
    game = TicTacToe()
    view = build_view(game, record(game, [4, 0, 2, 6, 3, 5, 1, 7, 8]), ["a", "b"])
    assert view["result"] == {
        "winner": None,
        "scores": [0.5, 0.5],
        "places": [1, 1],
        "line": [],
        "text": "Draw.",
    }
    assert marked(view["steps"][-1]["board"]) == 0


def test_rps_throws_score_and_result() -> None:
    game = RockPaperScissors()
    config = {"episodeSteps": 3, "tieRewardThreshold": 2}
    moves = [{0: 0, 1: 2}, {0: 1, 1: 1}, {0: 0, 1: 1}]
    view = build_view(game, record(game, moves, config), ["rocky", "paula"])
    steps = view["steps"]
    assert steps[1]["move"] == "rock beats scissors: rocky takes the round"
    assert steps[2]["move"] == "paper against paper: a tie"
    assert steps[3]["move"] == "paper beats rock: paula takes the round"
    assert steps[3]["label"] == "rock against paper"
    assert steps[3]["board"].splitlines() == [
        "Round 3 of 3",
        "rocky throws rock",
        "paula throws paper",
        "Score: rocky 0, paula 0",
    ]
    assert view["result"]["text"] == "Draw, final score 0 to 0."


def test_rps_winner_named_with_the_score() -> None:
    game = RockPaperScissors()
    moves = [{0: 1, 1: 0}, {0: 2, 1: 1}]
    view = build_view(game, record(game, moves, {"episodeSteps": 2, "tieRewardThreshold": 2}))
    assert view["players"][0]["name"] == "Player 1"
    assert view["result"]["text"] == "Player 1 wins, final score 2 to -2."


def test_a_forfeit_names_the_winner_the_match_recorded_and_the_fault() -> None:
    game = ConnectX()
    agents = [
        {"status": "TIMEOUT", "reason": "ran out of time: 2 s per turn and its overage bank"},
        {"status": "DONE", "reason": None},
    ]
    replay = record(game, [3, 3], agents=agents, winner=1)
    view = build_view(game, replay, ["slow", "steady"])
    assert view["result"]["winner"] == 1 and view["result"]["line"] == []
    assert view["result"]["text"] == (
        "steady (Yellow) wins; slow (Red) ran out of time: 2 s per turn and its overage bank."
    )
    invalid = [{"status": "DONE"}, {"status": "INVALID", "reason": "illegal action: column 9"}]
    text = build_view(game, record(game, [3], agents=invalid, winner=0), ["a", "b"])["result"]
    assert (
        text["text"] == "a (Red) wins; b (Yellow) made an illegal move: illegal action: column 9."
    )


def test_both_failing_is_no_winner() -> None:
    game = RockPaperScissors()
    agents = [{"status": "ERROR", "reason": "exited with code 1"}, {"status": "ERROR"}]
    view = build_view(game, record(game, [], agents=agents, winner=None), ["a", "b"])
    assert view["result"]["text"] == (
        "No winner, final score 0 to 0; a (Player 1) crashed: exited with code 1;"
        " b (Player 2) crashed."
    )
    assert [s["move"] for s in view["steps"]] == ["The game starts"]


def test_an_agent_playing_itself_gets_numbered_names() -> None:
    assert display_names(ConnectX(), ["twin", "twin"]) == ["twin #1", "twin #2"]
    assert display_names(ConnectX(), ["solo"]) == ["solo", "Yellow"]


def test_a_replay_of_another_game_or_without_steps_is_refused() -> None:
    replay = record(TicTacToe(), [4])
    with pytest.raises(ReplayViewError, match="tictactoe"):
        build_view(ConnectX(), replay)
    with pytest.raises(ReplayViewError, match="no steps"):
        build_view(TicTacToe(), {**replay, "steps": []})
    broken = {**replay, "steps": [replay["steps"][0], {"step": 1, "actions": {"x": 1}}]}
    with pytest.raises(ReplayViewError, match="cannot be replayed"):
        build_view(TicTacToe(), broken)


class Countdown(Game):
    """A plug-in game without a renderer: players alternately say a number; three moves end it."""

    id: ClassVar[str] = "countdown"
    title: ClassVar[str] = "Countdown"
    settings: ClassVar[tuple[Setting, ...]] = timing_settings(act_timeout=1, episode_steps=3)

    def initial_state(self, config: Mapping[str, Any], seed: int) -> State:
        return {"config": self.configure(config), "step": 0, "said": []}

    def to_move(self, state: State) -> list[int]:
        return [] if self.is_terminal(state) else [state["step"] % 2]

    def observation(self, state: State, player: int) -> dict[str, Any]:
        return {"said": state["said"]}

    def invalid_reason(self, state: State, player: int, action: Any) -> str | None:
        return None if isinstance(action, int) else "say a number"

    def apply(self, state: State, actions: Mapping[int, Any]) -> State:
        self._check_actions(state, actions)
        said = [*state["said"], *actions.values()]
        return {"config": state["config"], "step": state["step"] + 1, "said": said}

    def is_terminal(self, state: State) -> bool:
        return bool(state["step"] >= state["config"]["episodeSteps"])

    def scores(self, state: State) -> list[float]:
        return [0.5, 0.5]

    def winner(self, state: State) -> int | None:
        return None

    def render(self, state: State) -> str:
        return " ".join(map(str, state["said"]))

    def replay_frame(self, state: State) -> dict[str, Any]:
        return {"step": state["step"], "said": list(state["said"])}


def test_a_plugin_without_renderer_gets_the_generic_one() -> None:
    game = Countdown()
    view = build_view(game, record(game, [3, 2, 1]), ["a", "b"])
    assert view["renderer"] == "generic"
    final = view["steps"][-1]
    assert json.loads(final["board"]) == {"step": 3, "said": [3, 2, 1]}
    assert final["move"] == final["label"] == "Player 1 plays 1"
    assert view["steps"][2]["move"] == "Player 2 plays 2"
    assert view["result"]["text"] == "Draw."
    assert [p["glyph"] for p in view["players"]] == ["1", "2"]


def test_a_renderer_name_that_could_leave_the_folder_falls_back_to_generic() -> None:
    class Sneaky(Countdown):
        renderer: ClassVar[str] = "../../secrets"

    assert renderer_of(Sneaky()) == "generic"
    assert renderer_script(Sneaky()) is None


def test_a_plugin_ships_its_own_renderer_module(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    package = tmp_path / "countdown_game"
    package.mkdir()
    (package / "__init__.py").write_text("")
    (package / "viewer.js").write_text("export function render(step) {}\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    monkeypatch.delitem(sys.modules, "countdown_game", raising=False)

    class Shipped(Countdown):
        renderer: ClassVar[str] = "countdown"
        renderer_resource: ClassVar[tuple[str, str] | None] = ("countdown_game", "viewer.js")

    assert renderer_of(Shipped()) == "countdown"
    assert renderer_script(Shipped()) == "export function render(step) {}\n"


def test_connectx_reads_a_line_left_to_right_and_upwards() -> None:
    game = ConnectX()
    column = build_view(game, record(game, [0, 1, 0, 1, 0, 1, 0]), ["a", "b"])["result"]
    assert column["text"] == (
        "a (Red) wins with the line column 1 row 1, column 1 row 2, column 1 row 3, column 1 row 4."
    )
    falling = build_view(game, record(game, [3, 2, 2, 1, 1, 0, 1, 0, 0, 6, 0]), ["a", "b"])
    assert falling["result"]["text"].endswith(
        "column 1 row 4, column 2 row 3, column 3 row 2, column 4 row 1."
    )
