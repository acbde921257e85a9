"""Whole matches with forked agents: they play, reuse their zygotes, and never reuse a process."""

from __future__ import annotations

import shutil
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from botarena.executor.match import run_match
from botarena.executor.outcomes import AgentStatus, MatchResult
from botarena.executor.prepare import PreparedAgent, prepare_agent
from botarena.executor.referee import RefereeOptions
from botarena.executor.runners.local import LocalRunner
from botarena.executor.sandbox import SandboxedProcess
from botarena.games.registry import get_game
from executor.forkserver.forking import RecordingRunner

MakeAgent = Callable[[str, str], PreparedAgent]
EXAMPLES = Path(__file__).resolve().parents[3] / "examples" / "agents"

RANDOM = """
import random
def agent(obs, conf):
    return random.choice([c for c in range(conf.columns) if obs.board[c] == 0])
"""


def play(runner: object, agents: list[PreparedAgent], seed: int = 1) -> MatchResult:
    game = get_game("connectx")
    return run_match(
        game,
        game.configure({"actTimeout": 2}),
        agents,
        runner,  # type: ignore[arg-type]
        seed=seed,
        options=RefereeOptions(startup_timeout=10),
    )


def assert_played(result: MatchResult) -> None:
    assert result.status.value == "finished", result.error
    assert [a.status for a in result.agents] == [AgentStatus.DONE, AgentStatus.DONE], [
        (a.reason, a.log[-300:]) for a in result.agents
    ]
    assert result.turns >= 7


def test_a_forked_agent_plays_a_full_match(
    recording: RecordingRunner, make_agent: MakeAgent
) -> None:
    result = play(recording, [make_agent("a", RANDOM), make_agent("b", RANDOM)])
    assert_played(result)
    assert len(recording.forked()) == 2


def test_thirty_matches_reuse_two_zygotes_and_never_a_process(
    recording: RecordingRunner, make_agent: MakeAgent
) -> None:
    agents = [make_agent("a", RANDOM), make_agent("b", RANDOM)]
    for seed in range(30):
        assert_played(play(recording, agents, seed))
    forked = recording.forked()
    assert len(forked) == 60
    assert recording.started_zygotes == 2
    assert len({process.zygote for process in forked}) == 2
    assert len({process.pid for process in forked}) == 60, "each match-agent is a new process"


def test_concurrent_matches_get_a_zygote_per_agent_and_slot(
    recording: RecordingRunner, make_agent: MakeAgent
) -> None:
    agents = [make_agent("a", RANDOM), make_agent("b", RANDOM)]
    with ThreadPoolExecutor(2) as pool:
        results = list(pool.map(lambda seed: play(recording, agents, seed), range(12)))
    for result in results:
        assert_played(result)
    assert 2 <= recording.started_zygotes <= 4
    assert len({process.pid for process in recording.forked()}) == 24


def test_an_agent_playing_itself_gets_two_zygotes(
    recording: RecordingRunner, make_agent: MakeAgent
) -> None:
    agent = make_agent("self", RANDOM)
    assert_played(play(recording, [agent, agent]))
    first, second = recording.forked()
    assert first.zygote is not second.zygote
    assert first.zygote.process.pid != second.zygote.process.pid


def test_an_executable_agent_starts_without_a_zygote(
    recording: RecordingRunner, tmp_path: Path
) -> None:
    executable = prepare_agent(EXAMPLES / "executable-random", tmp_path / "cache")
    python = prepare_agent(EXAMPLES / "connectx-random", tmp_path / "cache")
    assert_played(play(recording, [executable, python]))
    assert isinstance(recording.processes[0], SandboxedProcess)
    assert recording.started_zygotes == 1


def test_idle_zygotes_are_stopped(fork_runner: LocalRunner, make_agent: MakeAgent) -> None:
    pool = fork_runner.pool
    assert pool is not None
    pool.idle_seconds = 0.2
    recording = RecordingRunner(fork_runner)
    agents = [make_agent("a", RANDOM), make_agent("b", RANDOM)]
    assert_played(play(recording, agents))
    first = {process.zygote for process in recording.forked()}
    assert all(zygote.process.poll() is None for zygote in first)
    deadline = time.monotonic() + 5
    while any(zygote.process.poll() is None for zygote in first) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert all(zygote.process.poll() is not None for zygote in first), "idle zygotes must stop"
    assert_played(play(recording, agents))
    assert recording.started_zygotes == 4


def test_a_folder_replaced_at_its_path_gets_a_fresh_zygote_and_the_old_one_retires(
    fork_runner: LocalRunner, make_agent: MakeAgent
) -> None:
    # What a rebuild did when it wrote over its artifact: the warm zygote still held the old,
    # deleted folder and the agent could not find its main.py.
    recording = RecordingRunner(fork_runner)
    replaced, other = make_agent("replaced", RANDOM), make_agent("other", RANDOM)
    assert_played(play(recording, [replaced, other]))
    old = recording.forked()[0].zygote

    shutil.rmtree(replaced.code_dir)
    replaced.code_dir.mkdir()
    (replaced.code_dir / "main.py").write_text(RANDOM)
    assert_played(play(recording, [replaced, other]))
    assert recording.forked()[2].zygote is not old, "a zygote of the old folder was reused"
    assert recording.forked()[3].zygote is recording.forked()[1].zygote
    assert recording.started_zygotes == 3
    # Retired by the sweeper (every 5 s here), long before it would have idled out (60 s).
    deadline = time.monotonic() + 10
    while old.process.poll() is None and time.monotonic() < deadline:
        time.sleep(0.05)
    assert old.process.poll() is not None, "the zygote of the replaced folder was not retired"
