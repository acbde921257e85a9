"""The agent contract in the real sandbox: Kaggle's own negamax agent unchanged, an agent with
requirements that prints while it thinks, and an executable in another language."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from botarena.executor.match import run_match
from botarena.executor.outcomes import AgentStatus
from botarena.executor.prepare import PreparedAgent, prepare_agent
from botarena.executor.referee import RefereeOptions
from botarena.executor.runners.local import LocalRunner
from botarena.games.registry import get_game

from support.kaggle import KaggleWheelError, kaggle_negamax_folder

EXAMPLES = Path(__file__).resolve().parents[2] / "examples" / "agents"
IN_CI = os.environ.get("CI") == "true"


@pytest.fixture(scope="session")
def env_cache(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Environments built once per run (the numpy one takes a while)."""
    return tmp_path_factory.mktemp("envs")


def _versus_random(runner: LocalRunner, agent: PreparedAgent, cache: Path, **config: object):
    game = get_game("connectx")
    opponent = prepare_agent(EXAMPLES / "connectx-random", cache)
    return run_match(
        game,
        game.configure(config),
        [agent, opponent],
        runner,
        seed=3,
        options=RefereeOptions(startup_timeout=30),
    )


def test_kaggles_negamax_runs_unchanged(
    sandbox_runner: LocalRunner, download_cache: Path, env_cache: Path
) -> None:
    try:
        folder = kaggle_negamax_folder(download_cache)
    except KaggleWheelError as exc:
        if exc.network and not IN_CI:
            pytest.skip(f"the package index is unreachable: {exc}")
        raise
    result = _versus_random(
        sandbox_runner, prepare_agent(folder, env_cache), env_cache, actTimeout=5
    )
    assert result.status.value == "finished", result.error
    assert [a.status for a in result.agents] == [AgentStatus.DONE, AgentStatus.DONE], [
        (a.reason, a.log[-300:]) for a in result.agents
    ]
    # Negamax beats a random player nearly always; a full-board draw is possible, a loss not.
    assert result.winner != 1


def test_requirements_and_prints(sandbox_runner: LocalRunner, env_cache: Path) -> None:
    lines: list[str] = []
    agent = prepare_agent(EXAMPLES / "connectx-numpy", env_cache, on_output=lines.append)
    assert agent.env_dir is not None
    result = _versus_random(sandbox_runner, agent, env_cache)
    assert [a.status for a in result.agents] == [AgentStatus.DONE, AgentStatus.DONE], [
        (a.reason, a.log[-300:]) for a in result.agents
    ]
    log = result.agents[0].log
    assert log.strip(), "the agent's prints must land in its log"
    assert "Traceback" not in log


def test_an_executable_agent(sandbox_runner: LocalRunner, env_cache: Path) -> None:
    agent = prepare_agent(EXAMPLES / "executable-random", env_cache)
    assert agent.command == ("./bot",)
    result = _versus_random(sandbox_runner, agent, env_cache)
    assert result.status.value == "finished"
    assert [a.status for a in result.agents] == [AgentStatus.DONE, AgentStatus.DONE], [
        (a.reason, a.log[-300:]) for a in result.agents
    ]
