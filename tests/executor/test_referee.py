"""The referee's rules: time bank, outcomes, simultaneous moves, logs and replays."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from botarena.executor.match import run_match
from botarena.executor.outcomes import AgentStatus, MatchResult, MatchStatus
from botarena.executor.prepare import PreparedAgent, prepare_agent
from botarena.executor.referee import RefereeOptions
from botarena.executor.stop import StopSignal
from botarena.games.base import placements
from botarena.games.registry import get_game

from support.runners import PlainRunner

Make = Callable[[str, str], PreparedAgent]

FIRST_FREE = (
    "def agent(obs, conf):\n    return next(c for c in range(conf.columns) if obs.board[c] == 0)\n"
)


@pytest.fixture
def make(tmp_path: Path) -> Make:
    def build(name: str, source: str) -> PreparedAgent:
        folder = tmp_path / name
        folder.mkdir()
        (folder / "main.py").write_text(source)
        return prepare_agent(folder, tmp_path / "cache")

    return build


def _play(game_id: str, agents: list[PreparedAgent], **config: Any) -> MatchResult:
    game = get_game(game_id)
    return run_match(
        game,
        game.configure(config),
        agents,
        PlainRunner(),
        seed=7,
        options=RefereeOptions(startup_timeout=10),
    )


def test_a_full_game_with_replay(make: Make) -> None:
    a = make("a", FIRST_FREE)
    b = make(
        "b",
        "def agent(obs, conf):\n    return conf.columns - 1 - next("
        "c for c in range(conf.columns) if obs.board[conf.columns - 1 - c] == 0)\n",
    )
    result = _play("connectx", [a, b])
    assert result.status.value == "finished"
    assert [o.status for o in result.agents] == [AgentStatus.DONE, AgentStatus.DONE]
    assert result.winner == 0  # column 0 stacks four first
    assert result.scores == [1.0, 0.0] and result.turns == 7
    replay = json.loads(json.dumps(result.replay))
    assert replay["game"] == "connectx" and replay["seed"] == 7
    assert [s["step"] for s in replay["steps"]] == list(range(8))
    assert replay["steps"][1]["actions"] == {"0": 0}
    assert replay["steps"][2]["actions"] == {"1": 6}
    summary = result.summary()
    assert set(summary) == {"status", "winner", "scores", "agents", "turns", "durationMs"}


def test_the_overage_bank_pays_for_slow_turns_then_runs_out(make: Make) -> None:
    slow = make(
        "slow",
        "import time\n"
        "seen = []\n"
        "def agent(obs, conf):\n"
        "    seen.append(obs.remainingOverageTime)\n"
        "    import sys; print('bank', obs.remainingOverageTime, file=sys.stderr)\n"
        "    time.sleep(0.25)\n"
        "    return next(c for c in range(conf.columns) if obs.board[c] == 0)\n",
    )
    fast = make("fast", "def agent(obs, conf):\n    return 3\n")
    result = _play("connectx", [slow, fast], actTimeout=0.1, overageTime=0.5)
    assert result.agents[0].status is AgentStatus.TIMEOUT
    assert "ran out of time" in (result.agents[0].reason or "")
    assert result.winner == 1
    banks = [float(line.split()[1]) for line in result.agents[0].log.splitlines() if "bank" in line]
    # Each turn takes about 0.15 s over the 0.1 s allowance: the bank shrinks until it is gone.
    assert banks[0] == 0.5 and banks == sorted(banks, reverse=True) and len(banks) >= 3


def test_simultaneous_moves_and_a_draw_when_both_fail(make: Make) -> None:
    rock = make("rock", "def agent(obs, conf):\n    return 0\n")
    paper = make("paper", "def agent(obs, conf):\n    return 1\n")
    result = _play("rps", [rock, paper], episodeSteps=30, tieRewardThreshold=5)
    assert result.winner == 1 and result.scores == [-30.0, 30.0] and result.turns == 30
    both_bad = make("bad", "def agent(obs, conf):\n    return 9\n")
    result = _play("rps", [both_bad, both_bad], episodeSteps=5)
    assert [o.status for o in result.agents] == [AgentStatus.INVALID, AgentStatus.INVALID]
    assert result.winner is None


def test_rps_agents_see_the_opponents_last_action(make: Make) -> None:
    echo = make(
        "echo",
        "import sys\n"
        "def agent(obs, conf):\n"
        "    print('last', obs.lastOpponentAction, file=sys.stderr)\n"
        "    return 2\n",
    )
    rock = make("rock", "def agent(obs, conf):\n    return 0\n")
    result = _play("rps", [echo, rock], episodeSteps=3)
    lasts = [line for line in result.agents[0].log.splitlines() if line.startswith("last")]
    assert lasts == ["last None", "last 0", "last 0"]


def test_startup_timeout_and_the_log_of_a_crash(make: Make) -> None:
    sleepy = make("sleepy", "import time\ntime.sleep(30)\ndef agent(o, c):\n    return 0\n")
    game = get_game("connectx")
    result = run_match(
        game,
        game.configure({}),
        [sleepy, make("ok", FIRST_FREE)],
        PlainRunner(),
        options=RefereeOptions(startup_timeout=0.5),
    )
    assert result.agents[0].status is AgentStatus.TIMEOUT
    assert result.agents[0].reason == "did not get ready within 0.5 s"
    crash = make(
        "crash", "import sys\nprint('about to fail', file=sys.stderr)\nraise SystemExit(4)\n"
    )
    result = _play("connectx", [make("ok2", FIRST_FREE), crash])
    assert result.agents[1].status is AgentStatus.ERROR and result.winner == 0
    assert "about to fail" in result.agents[1].log


def test_a_platform_failure_is_an_error_match(make: Make) -> None:
    class BrokenRunner(PlainRunner):
        def start(self, agent: PreparedAgent, *, name: str) -> Any:
            raise OSError("the runner is gone")

    game = get_game("connectx")
    result = run_match(game, game.configure({}), [make("x", FIRST_FREE)] * 2, BrokenRunner())
    assert result.status.value == "error" and result.winner is None
    assert "the runner is gone" in (result.error or "")


def test_a_stop_signal_ends_the_match_at_once(make: Make) -> None:
    """Set from another thread while both agents think: the referee stops waiting, closes
    both agents and answers the platform's error (nobody's result)."""
    thinker = make("thinker", "import time\ndef agent(obs, conf):\n    time.sleep(30)\n")
    game = get_game("connectx")
    stop = StopSignal()
    threading.Timer(0.5, stop.set).start()
    started = time.monotonic()
    try:
        result = run_match(
            game,
            game.configure({"actTimeout": 60}),
            [thinker, thinker],
            PlainRunner(),
            options=RefereeOptions(startup_timeout=10),
            stop=stop,
        )
    finally:
        stop.close()
    assert time.monotonic() - started < 10  # not the agents' 30 s
    assert result.status is MatchStatus.ERROR and result.winner is None
    assert result.error == "the match was stopped before its end"
    stop.set()  # a late stop after the match is harmless


class _PaddedConnectX:
    """ConnectX whose observations carry more than a pipe holds at once."""

    def __init__(self, padding: int) -> None:
        self._game = get_game("connectx")
        self._padding = "x" * padding

    def __getattr__(self, name: str) -> Any:
        return getattr(self._game, name)

    def observation(self, state: Any, player: int) -> dict[str, Any]:
        return {**self._game.observation(state, player), "padding": self._padding}


def test_a_turn_longer_than_the_pipe_still_arrives_whole(make: Make) -> None:
    # The referee writes what the pipe takes and the rest as the agent reads: a turn message
    # several times the pipe's buffer must reach the agent complete, within the turn's time.
    reads_all = make(
        "padded",
        "def agent(obs, conf):\n"
        "    assert len(obs.padding) == 300_000\n"
        "    return next(c for c in range(conf.columns) if obs.board[c] == 0)\n",
    )
    game: Any = _PaddedConnectX(300_000)
    result = run_match(
        game,
        game.configure({"actTimeout": 2, "overageTime": 0}),
        [reads_all, make("plain", FIRST_FREE)],
        PlainRunner(),
        options=RefereeOptions(startup_timeout=10),
    )
    assert [o.status for o in result.agents] == [AgentStatus.DONE, AgentStatus.DONE], [
        o.reason for o in result.agents
    ]
    assert result.turns > 6


def test_a_free_for_all_with_a_crash_ranks_the_crashed_agent_last(make: Make) -> None:
    north = make("north", 'def agent(obs, conf):\n    return "NORTH"\n')
    east = make("east", 'def agent(obs, conf):\n    return "EAST"\n')
    crash = make(
        "crash", 'def agent(obs, conf):\n    if obs.step == 3:\n        1 / 0\n    return "SOUTH"\n'
    )
    result = _play("geese", [north, crash, east])
    assert result.status.value == "finished"
    assert [o.status for o in result.agents][1] is AgentStatus.ERROR
    assert result.winner is None and len(result.scores) == 3
    places = placements(result.winner, result.scores, 3)
    assert places[1] == 3 and result.scores[1] == 0.0
    assert len(result.replay["steps"][0]["frame"]["geese"]) == 3
    with pytest.raises(ValueError, match="2 to 4 agents, not 5"):
        _play("geese", [north, crash, east, north, east])
