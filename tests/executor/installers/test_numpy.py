"""numpy, which the example agent connectx-numpy needs: installed in the sandbox it runs a
match in the agent sandbox; with too small a disk the install fails for lack of space.

The install is made once for the module (a minute or more of download and install) and each
runner plays from it: what is installed does not depend on the runner that plays it."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from botarena.executor.installers import SandboxedInstaller
from botarena.executor.match import run_match
from botarena.executor.outcomes import AgentStatus
from botarena.executor.prepare import (
    PreparedAgent,
    PrepareError,
    build_environment,
    prepare_agent,
)
from botarena.executor.referee import RefereeOptions
from botarena.executor.runners.local import LocalRunner
from botarena.executor.sandbox.limits import MIB
from botarena.games.registry import get_game

from support.installs import assert_no_install_left

EXAMPLES = Path(__file__).resolve().parents[3] / "examples" / "agents"

pytestmark = pytest.mark.usefixtures("no_install_left")


@pytest.fixture(scope="module")
def numpy_agent(
    sandboxed_installer: SandboxedInstaller, tmp_path_factory: pytest.TempPathFactory
) -> PreparedAgent:
    """connectx-numpy, its environment installed in the install sandbox, once; no install
    process of it left afterwards."""
    cache = tmp_path_factory.mktemp("numpy-cache")
    started = time.monotonic()
    agent = prepare_agent(EXAMPLES / "connectx-numpy", cache, installer=sandboxed_installer)
    print(f"sandboxed install of numpy: {time.monotonic() - started:.1f} s")
    assert_no_install_left(cache)
    return agent


def test_a_numpy_agent_plays_from_a_sandboxed_build(
    numpy_agent: PreparedAgent, local_runner: LocalRunner, tmp_path: Path
) -> None:
    agent = numpy_agent
    assert agent.env_dir is not None
    game = get_game("connectx")
    opponent = prepare_agent(EXAMPLES / "connectx-random", tmp_path / "cache")
    result = run_match(
        game,
        game.configure({}),
        [agent, opponent],
        local_runner,
        seed=3,
        options=RefereeOptions(startup_timeout=30),
    )
    assert result.status.value == "finished", result.error
    assert [a.status for a in result.agents] == [AgentStatus.DONE, AgentStatus.DONE], [
        (a.reason, a.log[-300:]) for a in result.agents
    ]
    assert "Traceback" not in result.agents[0].log


def test_an_install_bigger_than_the_disk_limit_fails(
    sandboxed_installer: SandboxedInstaller, tmp_path: Path
) -> None:
    (tmp_path / "a").mkdir()
    requirements = tmp_path / "a" / "requirements.txt"
    requirements.write_text("numpy\n")
    small = SandboxedInstaller(sandboxed_installer.limits, disk_bytes=20 * MIB)
    with pytest.raises(PrepareError) as caught:
        build_environment(requirements, tmp_path / "envs", installer=small)
    assert caught.value.reason == "dependencies_failed"
    assert "No space left on device" in str(caught.value)
    assert list((tmp_path / "envs").iterdir()) == []
