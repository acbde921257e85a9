"""The executor service through real gRPC: matches on both runners, heartbeats, health,
refused specs, and an executor process killed mid-match."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from botarena.builds.images import ImageBuilder
from botarena.executor import wire
from botarena.executor.artifacts import ArtifactPolicy
from botarena.executor.client import ExecutorClient, ExecutorUnavailableError, MatchRefusedError
from botarena.executor.credentials import EXECUTOR
from botarena.executor.grpc_service import ArtifactRunner, ExecutorServicer, serve
from botarena.executor.prepare import PreparedAgent, prepare_agent
from botarena.executor.proto import executor_pb2 as pb
from botarena.executor.sandbox import Limits
from botarena.executor.sandbox.limits import MIB
from botarena.settings import Settings

from support.docker import Engine
from support.executors import artifact_folder, authority, dispatcher_client
from support.services import require_sandbox

EXAMPLES = Path(__file__).resolve().parents[2] / "examples" / "agents"
SLOW = (
    "import random, time\n"
    "def agent(obs, conf):\n"
    "    time.sleep(0.15)\n"
    "    return random.choice([c for c in range(conf.columns) if obs.board[c] == 0])\n"
)


@pytest.fixture
def runtime() -> str:
    """Where the test's agents run; tests on both runtimes parametrize it."""
    return "local"


@pytest.fixture
def executor_settings(tmp_path: Path, runtime: str, request: pytest.FixtureRequest) -> Settings:
    """An executor's settings; for docker, the run's private engine."""
    docker_host = request.getfixturevalue("docker_daemon").url if runtime == "docker" else None
    return Settings(_env_file=None, data_dir=tmp_path, docker_host=docker_host)  # type: ignore[call-arg]


@pytest.fixture
def running(executor_settings: Settings) -> Iterator[tuple[ExecutorServicer, ExecutorClient]]:
    """An executor served on a free loopback port, and a client of it."""
    runner = ArtifactRunner(executor_settings, Limits(memory_bytes=256 * MIB, pids=64))
    policy = ArtifactPolicy.from_settings(executor_settings)
    service = ExecutorServicer(runner, policy, name="test-executor", heartbeat_seconds=0.1)
    data_dir = executor_settings.data_dir
    server, port = serve(service, "127.0.0.1:0", authority(data_dir).issue(EXECUTOR))
    client = dispatcher_client(f"127.0.0.1:{port}", data_dir)
    yield service, client
    client.close()
    server.stop(grace=1).wait()
    service.close()
    runner.close()


def _folder(tmp_path: Path, name: str, source: str) -> Path:
    """A Python agent where the executor of ``tmp_path`` (its data folder) accepts it."""
    return artifact_folder(tmp_path, name, {"main.py": source})


def _agents(request: pytest.FixtureRequest, runtime: str, *folders: Path) -> list[PreparedAgent]:
    """The folders as the runtime plays them: prepared in place, or built into images."""
    cache = folders[0].parents[2] / "cache"
    prepared = [prepare_agent(folder, cache, name=folder.parent.name) for folder in folders]
    if runtime == "local":
        require_sandbox()
        return prepared
    engine: Engine = request.getfixturevalue("docker_daemon")
    builder = ImageBuilder(engine.client(), request.getfixturevalue("python_image"))
    images = [
        builder.build(folder, f"botarena/agent-test-{folder.parent.name}:latest", lambda _: None)
        for agent, folder in zip(prepared, folders, strict=True)
    ]
    return [
        PreparedAgent.from_image(agent.name, image.reference)
        for agent, image in zip(prepared, images, strict=True)
    ]


def _spec(agents: list[PreparedAgent], game: str = "connectx", **config: object) -> pb.MatchSpec:
    return wire.match_spec(
        "mat-test", game, dict(config), 7, [wire.agent_spec(agent) for agent in agents]
    )


@pytest.mark.parametrize("runtime", ["local", "docker"])
def test_a_match_through_grpc(
    running: tuple[ExecutorServicer, ExecutorClient],
    request: pytest.FixtureRequest,
    tmp_path: Path,
    runtime: str,
) -> None:
    _, client = running
    printing = (EXAMPLES / "connectx-random" / "main.py").read_text() + (
        "\nimport sys\nprint('thinking', file=sys.stderr)\n"
    )
    agents = _agents(
        request,
        runtime,
        _folder(tmp_path, "slow", SLOW),
        _folder(tmp_path, "printer", printing),
    )
    events = list(client.run_match(_spec(agents)))

    kinds = [event.WhichOneof("event") for event in events]
    assert kinds[0] == "started" and kinds[-1] == "finished"
    assert "heartbeat" in kinds, "a match of several turns sends heartbeats"
    assert events[0].started.executor == "test-executor"
    result = wire.match_result(events[-1].finished)
    assert result.status.value == "finished", result.error
    assert [a.status.value for a in result.agents] == ["DONE", "DONE"]
    assert result.turns > 0 and len(result.replay["steps"]) == result.turns + 1
    assert "thinking" in result.agents[1].log


def test_health_tells_capacity_and_isolation(
    running: tuple[ExecutorServicer, ExecutorClient],
) -> None:
    _, client = running
    reply = client.health()
    assert reply.serving and reply.capacity == 2 and reply.running == 0
    assert "bubblewrap" in reply.isolation


@pytest.mark.parametrize(
    ("spec", "message"),
    [
        (pb.MatchSpec(game="chess", agents=[]), "Unknown game 'chess'"),
        (
            pb.MatchSpec(game="connectx", agents=[pb.AgentSpec(name="a"), pb.AgentSpec(name="b")]),
            "refused: agent 'a' names neither a folder nor an image",
        ),
        (pb.MatchSpec(game="connectx", configuration_json='{"rows": -1}'), "bad match spec"),
        (pb.MatchSpec(game="connectx", agents=[]), "ConnectX is played by 2 agents, not 0"),
    ],
    ids=["unknown-game", "no-artifact", "bad-config", "no-agents"],
)
def test_a_bad_spec_is_refused(
    running: tuple[ExecutorServicer, ExecutorClient], spec: pb.MatchSpec, message: str
) -> None:
    _, client = running
    with pytest.raises(MatchRefusedError, match=message):
        list(client.run_match(spec))


def test_an_unreachable_executor(tmp_path: Path) -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    with dispatcher_client(f"127.0.0.1:{port}", tmp_path) as client:
        with pytest.raises(ExecutorUnavailableError, match="unavailable"):
            client.health(timeout=2)
        with pytest.raises(ExecutorUnavailableError, match="unavailable"):
            list(client.run_match(pb.MatchSpec(game="connectx")))


def test_an_executor_killed_mid_match(tmp_path: Path) -> None:
    """The executor process dies (SIGKILL) during a match: the client hears of it at once."""
    require_sandbox()
    authority(tmp_path)
    environment = {**os.environ, "BOTARENA_DATA_DIR": str(tmp_path)}
    process = subprocess.Popen(
        [sys.executable, "-m", "botarena", "executor", "--listen", "127.0.0.1:0"],
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        env=environment,
        text=True,
    )
    try:
        assert process.stdout is not None
        line = process.stdout.readline()
        port = int(line.strip().rsplit(":", 1)[1])
        slow = prepare_agent(_folder(tmp_path, "slow", SLOW), tmp_path / "cache")
        with dispatcher_client(f"127.0.0.1:{port}", tmp_path) as client:
            events = client.run_match(_spec([slow, slow]), silence_timeout=10)
            assert next(events).HasField("started")
            os.kill(process.pid, signal.SIGKILL)
            started = time.monotonic()
            with pytest.raises(ExecutorUnavailableError):
                for _ in events:
                    pass
            assert time.monotonic() - started < 5
    finally:
        process.kill()
        process.wait(10)


def test_a_silent_executor_is_given_up(tmp_path: Path, executor_settings: Settings) -> None:
    """No heartbeat within the silence timeout: the client gives the match up."""
    require_sandbox()
    runner = ArtifactRunner(executor_settings)
    policy = ArtifactPolicy.from_settings(executor_settings)
    service = ExecutorServicer(runner, policy, heartbeat_seconds=30)
    server, port = serve(service, "127.0.0.1:0", authority(tmp_path).issue(EXECUTOR))
    slow = prepare_agent(_folder(tmp_path, "slow", SLOW), tmp_path / "cache")
    try:
        with (
            dispatcher_client(f"127.0.0.1:{port}", tmp_path) as client,
            pytest.raises(ExecutorUnavailableError, match="silent"),
        ):
            list(client.run_match(_spec([slow, slow]), silence_timeout=0.5))
    finally:
        server.stop(grace=0).wait()
        service.close()
        runner.close()
