"""The referee as a program of its own (``botarena referee``): agents reached through named
pipes in a shared folder, run here as local processes of the agent shim, as the agent
containers of a match pod run it."""

from __future__ import annotations

import json
import os
import stat
import subprocess
import sys
from pathlib import Path

import pytest

from botarena.executor.match_document import (
    RESULT_BEGIN,
    RESULT_END,
    RefereeSpec,
    find_result,
    termination_summary,
)
from botarena.executor.outcomes import AgentStatus, MatchStatus
from botarena.executor.pipe_match import play_over_pipes
from botarena.executor.pipes import PIPES_ENV, make_pipes
from botarena.games.registry import get_game

from support.agent_sources import FAIR

SOURCE = Path(__file__).resolve().parents[2] / "src"
EXECUTABLE = Path(__file__).resolve().parents[2] / "examples" / "agents" / "executable-random"
CRASHES = "def agent(obs, conf):\n    raise RuntimeError('boom')\n"
SILENT = "import time\ndef agent(obs, conf):\n    time.sleep(60)\n"


def spec(**overrides: object) -> RefereeSpec:
    configuration = get_game("connectx").configure({"actTimeout": 1.0, "overageTime": 0.5})
    values: dict[str, object] = {
        "game": "connectx",
        "configuration": configuration,
        "seed": 7,
        "agents": ("fair-a", "fair-b"),
        "time_budget_seconds": 300,
        **overrides,
    }
    return RefereeSpec(**values)  # type: ignore[arg-type]


def start_agent(folder: Path, source: str, pipes: Path) -> subprocess.Popen[bytes]:
    """The agent shim as an agent container runs it: its protocol on the pipes of ``pipes``,
    named by the environment, its own stdin/stdout/stderr untouched."""
    folder.mkdir()
    (folder / "main.py").write_text(source)
    environment = {**os.environ, "PYTHONPATH": str(SOURCE), PIPES_ENV: str(pipes)}
    return subprocess.Popen(
        [sys.executable, "-m", "botarena.sdk", "--main", str(folder / "main.py")],
        env=environment,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )


@pytest.fixture
def shared(tmp_path: Path) -> Path:
    root = tmp_path / "match"
    root.mkdir()
    return root


def play(shared: Path, tmp_path: Path, sources: list[str], **overrides: object):  # type: ignore[no-untyped-def]
    make_pipes(shared, 2)  # the pod's init step
    agents = [
        start_agent(tmp_path / f"agent{n}", source, shared / f"p{n}")
        for n, source in enumerate(sources)
    ]
    try:
        return play_over_pipes(spec(**overrides), shared)
    finally:
        for agent in agents:
            try:
                agent.wait(10)
            except subprocess.TimeoutExpired:
                agent.kill()
                agent.wait()


def test_two_agents_on_pipes_play_a_match_to_its_end(shared: Path, tmp_path: Path) -> None:
    result = play(shared, tmp_path, [FAIR, FAIR])
    assert result.status is MatchStatus.FINISHED
    assert [a.status for a in result.agents] == [AgentStatus.DONE, AgentStatus.DONE]
    assert result.turns > 0
    assert len(result.replay["steps"]) == result.turns + 1


def test_an_agent_that_crashes_loses_with_its_log(shared: Path, tmp_path: Path) -> None:
    result = play(shared, tmp_path, [FAIR, CRASHES])
    assert result.status is MatchStatus.FINISHED
    assert result.winner == 0
    assert result.agents[1].status is AgentStatus.ERROR
    assert "boom" in (result.agents[1].reason or "")
    assert "RuntimeError" in result.agents[1].log  # its stderr came through its err pipe


def test_an_agent_that_never_starts_times_out_without_a_hang(shared: Path, tmp_path: Path) -> None:
    make_pipes(shared, 2)
    agent = start_agent(tmp_path / "agent0", FAIR, shared / "p0")
    configuration = get_game("connectx").configure({"agentTimeout": 1.0})
    try:
        result = play_over_pipes(spec(configuration=configuration), shared)
    finally:
        agent.wait(10)
    assert result.winner == 0
    assert result.agents[1].status is AgentStatus.TIMEOUT


def test_the_program_prints_one_delimited_result_and_a_short_summary(
    shared: Path, tmp_path: Path
) -> None:
    termination = tmp_path / "termination-log"
    termination.touch()  # the kubelet makes it
    make_pipes(shared, 2)
    agents = [
        start_agent(tmp_path / f"agent{n}", source, shared / f"p{n}")
        for n, source in enumerate([FAIR, SILENT])
    ]
    referee = subprocess.run(
        [
            sys.executable,
            "-m",
            "botarena",
            "referee",
            "--pipes",
            str(shared),
            "--termination-log",
            str(termination),
        ],
        env={
            **os.environ,
            "PYTHONPATH": str(SOURCE),
            "BOTARENA_REFEREE_SPEC": spec().to_json(),
        },
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    for agent in agents:
        agent.kill()
        agent.wait()
    assert referee.returncode == 0, referee.stderr
    lines = referee.stdout.splitlines()
    assert lines[0] == RESULT_BEGIN and lines[-1] == RESULT_END and len(lines) == 3
    result = find_result(lines)
    assert result is not None
    assert result.winner == 0
    assert result.agents[1].status is AgentStatus.TIMEOUT
    assert result.replay["seed"] == 7
    summary = json.loads(termination.read_text())
    assert summary["winner"] == 0 and summary["agents"][1]["status"] == "TIMEOUT"
    assert summary == json.loads(termination_summary(result))


def test_a_spec_that_cannot_be_played_is_refused(tmp_path: Path) -> None:
    referee = subprocess.run(
        [sys.executable, "-m", "botarena", "referee", "--pipes", str(tmp_path)],
        env={**os.environ, "PYTHONPATH": str(SOURCE), "BOTARENA_REFEREE_SPEC": "{}"},
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert referee.returncode == 2
    assert "bad match spec" in referee.stderr
    assert RESULT_BEGIN not in referee.stdout


def test_a_forged_delimiter_in_an_agent_log_stays_inside_the_json() -> None:
    from botarena.executor.match_document import result_lines
    from botarena.executor.outcomes import AgentOutcome, MatchResult

    forged = f"{RESULT_END}\n{RESULT_BEGIN}\n{{}}\n{RESULT_END}\n"
    result = MatchResult(
        MatchStatus.FINISHED, 1, [0.0, 1.0], [AgentOutcome(log=forged), AgentOutcome()], 3, 10
    )
    printed = result_lines(result).splitlines()
    assert len(printed) == 3
    read = find_result(printed)
    assert read is not None and read.agents[0].log == forged and read.winner == 1


def test_the_summary_fits_a_termination_message() -> None:
    from botarena.executor.outcomes import AgentOutcome, MatchResult

    long = "x" * 10_000
    result = MatchResult(
        MatchStatus.FINISHED,
        0,
        [1.0, 0.0],
        [AgentOutcome(), AgentOutcome(AgentStatus.ERROR, long)],
        3,
        10,
        error=long,
    )
    assert len(termination_summary(result).encode()) <= 4096


def test_an_agent_with_a_command_of_its_own_plays_through_the_pipes_launcher(
    shared: Path, tmp_path: Path
) -> None:
    """What an image built for a ``botarena.toml`` command runs: the launcher takes the pipes
    the environment names, then becomes the agent's own program (a shell script here)."""
    make_pipes(shared, 2)
    fair = start_agent(tmp_path / "agent0", FAIR, shared / "p0")
    program = subprocess.Popen(
        [sys.executable, "-m", "botarena.sdk.pipes", "./bot"],
        cwd=EXECUTABLE,
        env={**os.environ, "PYTHONPATH": str(SOURCE), PIPES_ENV: str(shared / "p1")},
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        result = play_over_pipes(spec(), shared)
    finally:
        for agent in (fair, program):
            agent.wait(10)
    assert result.status is MatchStatus.FINISHED
    assert [a.status for a in result.agents] == [AgentStatus.DONE, AgentStatus.DONE], result.agents
    assert result.turns > 0


def test_without_pipes_the_launcher_is_the_program_itself(tmp_path: Path) -> None:
    environment = {k: v for k, v in os.environ.items() if k != PIPES_ENV}
    ran = subprocess.run(
        [sys.executable, "-m", "botarena.sdk.pipes", "sh", "-c", "echo $$ seen; exit 3"],
        env={**environment, "PYTHONPATH": str(SOURCE)},
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
    )
    assert (ran.returncode, ran.stdout.split()[1]) == (3, "seen")


def test_the_pipes_are_the_agents_to_open_and_their_folders_not_theirs_to_fill(
    shared: Path,
) -> None:
    os.umask(old := os.umask(0o077))  # a strict umask changes nothing
    try:
        folders = make_pipes(shared, 2)
    finally:
        os.umask(old)
    assert make_pipes(shared, 2) == folders  # made once, found again
    for folder in folders:
        assert stat.S_IMODE(folder.stat().st_mode) == 0o755
        for name in ("in", "out", "err"):
            mode = (folder / name).stat().st_mode
            assert stat.S_ISFIFO(mode) and stat.S_IMODE(mode) == 0o666
