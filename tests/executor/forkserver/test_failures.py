"""When a zygote dies or never starts: the match ends cleanly, and the next one gets a new one."""

from __future__ import annotations

import os
import signal
import threading
import time
from collections.abc import Callable
from pathlib import Path

from botarena.executor.agent_process import AgentProcess
from botarena.executor.forkserver import ForkedAgent
from botarena.executor.match import run_match
from botarena.executor.outcomes import AgentStatus, MatchResult
from botarena.executor.prepare import PreparedAgent
from botarena.executor.referee import RefereeOptions
from botarena.executor.runners.local import LocalRunner
from botarena.games.registry import get_game
from executor.forkserver.forking import RecordingRunner, zygote_pid

from support.agent_sources import FAIR

MakeAgent = Callable[[str, str], PreparedAgent]

# On its second turn it leaves a sign in its /tmp and waits to be killed.
DOOMED = """
import random, time
turns = 0
def agent(obs, conf):
    global turns
    turns += 1
    if turns == 2:
        open('/tmp/kill-me', 'w').close()
        time.sleep(30)
    return random.choice([c for c in range(conf.columns) if obs.board[c] == 0])
"""


def play(runner: object, agents: list[PreparedAgent]) -> MatchResult:
    game = get_game("connectx")
    started = time.monotonic()
    result = run_match(
        game,
        game.configure({"actTimeout": 3, "overageTime": 1}),
        agents,
        runner,  # type: ignore[arg-type]
        seed=1,
        options=RefereeOptions(startup_timeout=10),
    )
    assert time.monotonic() - started < 15, "the match must end in bounded time"
    return result


def test_a_zygote_killed_between_matches_is_replaced(
    recording: RecordingRunner, make_agent: MakeAgent
) -> None:
    agents = [make_agent("a", FAIR), make_agent("b", FAIR)]
    assert play(recording, agents).status.value == "finished"
    victim = recording.forked()[0].zygote
    os.kill(zygote_pid(victim), signal.SIGKILL)
    result = play(recording, agents)
    assert result.status.value == "finished", result.error
    assert [a.status for a in result.agents] == [AgentStatus.DONE] * 2
    assert recording.forked()[2].zygote is not victim
    assert recording.forked()[3].zygote is recording.forked()[1].zygote
    assert recording.started_zygotes == 3


def test_a_zygote_killed_during_a_match_loses_only_its_agent(
    recording: RecordingRunner, make_agent: MakeAgent
) -> None:
    doomed = make_agent("doomed", DOOMED)
    fair = make_agent("fair", FAIR)
    killed = threading.Event()

    class Killing(RecordingRunner):
        """Kills the doomed agent's zygote from the host once the agent asks for it."""

        def start(self, agent: PreparedAgent, *, name: str) -> AgentProcess:
            process = super().start(agent, name=name)
            if agent is doomed:
                assert isinstance(process, ForkedAgent)
                threading.Thread(target=kill_when_asked, args=(process,), daemon=True).start()
            return process

    def kill_when_asked(process: ForkedAgent) -> None:
        pid = zygote_pid(process.zygote)
        sign = Path(f"/proc/{pid}/root/tmp/kill-me")
        deadline = time.monotonic() + 10
        while not sign.exists() and time.monotonic() < deadline:
            time.sleep(0.01)
        os.kill(pid, signal.SIGKILL)
        killed.set()

    killing = Killing(recording.runner)
    result = play(killing, [doomed, fair])
    assert killed.is_set()
    assert result.status.value == "finished", result.error
    assert result.winner == 1
    assert result.agents[1].status is AgentStatus.DONE
    assert result.agents[0].status is AgentStatus.ERROR
    assert result.agents[0].reason == "killed by signal SIGKILL"
    again = play(killing, [fair, make_agent("other", FAIR)])
    assert again.status.value == "finished", again.error


def test_a_zygote_that_does_not_start_is_the_platforms_error(
    fork_runner: LocalRunner, make_agent: MakeAgent
) -> None:
    assert fork_runner.pool is not None
    fork_runner.pool.start_timeout = 0.001
    result = play(fork_runner, [make_agent("a", FAIR), make_agent("b", FAIR)])
    assert result.status.value == "error"
    assert "fork server did not start" in (result.error or ""), result.error
    assert all(agent.status is AgentStatus.DONE for agent in result.agents)
