"""Matches played for real through the kubernetes match runner: the fake API server's Docker
kubelet runs each match pod (the pipes' init container, the referee from the stand-in botarena
image, each agent from the image the docker backend built for it, sharing one emptyDir)."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from kubernetes import client, config

from botarena.builds.images import ImageBuilder
from botarena.executor import wire
from botarena.executor.artifacts import ArtifactPolicy
from botarena.executor.client import ExecutorClient
from botarena.executor.credentials import EXECUTOR
from botarena.executor.grpc_service import ExecutorServicer, serve
from botarena.executor.kubernetes.manifests import MatchJobSettings
from botarena.executor.outcomes import AgentStatus, MatchResult, MatchStatus
from botarena.executor.prepare import PreparedAgent
from botarena.executor.runners.kubernetes import KubernetesMatchRunner
from botarena.games.registry import get_game
from botarena.settings import Settings

from support.agent_sources import FAIR
from support.docker import Engine
from support.executors import authority, dispatcher_client
from support.kubefake import FakeKubernetes

NAMESPACE = "botarena-matches"
# It prints, and tries to put a file beside its pipes (which its folder's owner forbids).
PRINTER = FAIR + (
    "\nimport sys\nprint('thinking', file=sys.stderr)\n"
    "try:\n    open('/match/junk', 'w')\nexcept OSError as exc:\n"
    "    print('refused:', exc.strerror, file=sys.stderr)\n"
)
CRASHES = FAIR.replace("def agent(obs, conf):", "def agent(obs, conf):\n    raise KeyError('x')")
EXECUTABLE = Path(__file__).resolve().parents[3] / "examples" / "agents" / "executable-random"
SLOW = "import time\ndef agent(obs, conf):\n    time.sleep(30)\n"


@pytest.fixture
def cluster(docker_kubernetes: FakeKubernetes) -> Iterator[Any]:
    api = config.new_client_from_config(str(docker_kubernetes.kubeconfig))
    client.CoreV1Api(api).create_namespace({"metadata": {"name": NAMESPACE}})
    yield api
    api.close()


@pytest.fixture
def runner(cluster: Any, referee_image: str) -> KubernetesMatchRunner:
    settings = Settings(_env_file=None, k8s_referee_image=referee_image)  # type: ignore[call-arg]
    config = MatchJobSettings.from_settings(settings)
    return KubernetesMatchRunner(cluster, config, poll_seconds=0.1)


@pytest.fixture(scope="module")
def build(
    docker_daemon: Engine, python_image: str, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Any]:
    """``build(name, source)``: an agent image the docker backend's builder made from a
    main.py's source or a folder (once per name in this module)."""
    engine = docker_daemon.client()
    builder = ImageBuilder(engine, python_image)
    built: dict[str, PreparedAgent] = {}

    def make(name: str, source: str | Path) -> PreparedAgent:
        if name not in built:
            if isinstance(source, Path):
                folder = source
            else:
                folder = tmp_path_factory.mktemp("agents") / name
                folder.mkdir()
                (folder / "main.py").write_text(source)
            image = builder.build(folder, f"botarena/agent-k8s-{name}:latest", lambda _: None)
            built[name] = PreparedAgent.from_image(name, image.reference)
        return built[name]

    yield make
    engine.close()


def play(runner: KubernetesMatchRunner, agents: list[PreparedAgent], **kwargs: Any) -> MatchResult:
    game = get_game("connectx")
    configuration = game.configure({"agentTimeout": 20.0})
    return runner.play_match("mat-k8s", game, configuration, agents, seed=5, **kwargs)


def no_jobs_left(api: Any) -> bool:
    for _ in range(100):
        batch, core = client.BatchV1Api(api), client.CoreV1Api(api)
        jobs, pods = batch.list_namespaced_job(NAMESPACE), core.list_namespaced_pod(NAMESPACE)
        if not jobs.items and not pods.items:
            return True
        time.sleep(0.1)
    return False


def test_a_match_through_the_executor_plays_in_a_match_pod(
    runner: KubernetesMatchRunner, build: Any, cluster: Any, tmp_path: Path
) -> None:
    agents = [build("fair", FAIR), build("printer", PRINTER)]
    settings = Settings(_env_file=None, data_dir=tmp_path)  # type: ignore[call-arg]
    service = ExecutorServicer(
        runner, ArtifactPolicy.from_settings(settings), name="k8s", heartbeat_seconds=0.2
    )
    server, port = serve(service, "127.0.0.1:0", authority(tmp_path).issue(EXECUTOR))
    caller: ExecutorClient = dispatcher_client(f"127.0.0.1:{port}", tmp_path)
    try:
        spec = wire.match_spec(
            "mat-k8s-grpc",
            "connectx",
            {"agentTimeout": 20.0},
            7,
            [wire.agent_spec(agent) for agent in agents],
        )
        events = list(caller.run_match(spec))
    finally:
        caller.close()
        server.stop(grace=1).wait()
        service.close()
    kinds = [event.WhichOneof("event") for event in events]
    assert kinds[0] == "started" and kinds[-1] == "finished"
    assert "heartbeat" in kinds  # the dispatcher's lease is renewed while the pod plays
    assert "Kubernetes Jobs" in events[0].started.isolation
    result = wire.match_result(events[-1].finished)
    assert result.status is MatchStatus.FINISHED, result.error
    assert [a.status for a in result.agents] == [AgentStatus.DONE, AgentStatus.DONE]
    assert result.turns > 0 and len(result.replay["steps"]) == result.turns + 1
    assert "thinking" in result.agents[1].log  # its stderr, through its err pipe
    assert "refused: Permission denied" in result.agents[1].log
    assert no_jobs_left(cluster)


def test_an_agent_that_crashes_in_its_container_loses_as_today(
    runner: KubernetesMatchRunner, build: Any, cluster: Any
) -> None:
    result = play(runner, [build("fair", FAIR), build("crashes", CRASHES)])
    assert result.status is MatchStatus.FINISHED, result.error
    assert result.winner == 0
    assert result.agents[1].status is AgentStatus.ERROR
    assert "KeyError" in (result.agents[1].reason or "")
    assert no_jobs_left(cluster)


def test_a_job_deleted_mid_match_is_handed_back_not_lost(
    runner: KubernetesMatchRunner, build: Any, cluster: Any
) -> None:
    agents = [build("slow", SLOW), build("fair", FAIR)]
    batch, core = client.BatchV1Api(cluster), client.CoreV1Api(cluster)

    def delete_once_running() -> None:
        for _ in range(300):
            pods = core.list_namespaced_pod(NAMESPACE).items
            if pods and pods[0].status.phase == "Running":
                job = pods[0].metadata.labels["batch.kubernetes.io/job-name"]
                batch.delete_namespaced_job(job, NAMESPACE, propagation_policy="Background")
                return
            time.sleep(0.1)

    deleter = threading.Thread(target=delete_once_running, daemon=True)
    deleter.start()
    result = play(runner, agents)
    deleter.join(10)
    assert result.status is MatchStatus.ERROR  # the platform's: handed back, played again
    assert "deleted" in (result.error or "")
    assert all(agent.status is AgentStatus.DONE for agent in result.agents)
    assert no_jobs_left(cluster)


def test_an_agent_with_a_command_of_its_own_plays_in_a_match_pod(
    runner: KubernetesMatchRunner, build: Any, cluster: Any
) -> None:
    """Its image's command is the pipes launcher, then its own program (a shell script)."""
    result = play(runner, [build("fair", FAIR), build("executable", EXECUTABLE)])
    assert result.status is MatchStatus.FINISHED, result.error
    assert [a.status for a in result.agents] == [AgentStatus.DONE, AgentStatus.DONE]
    assert no_jobs_left(cluster)


def test_a_referee_image_that_cannot_be_pulled_is_the_platforms_error(
    cluster: Any, build: Any
) -> None:
    settings = Settings(  # type: ignore[call-arg]
        _env_file=None, k8s_referee_image="localhost:9/botarena/missing:1"
    )
    config = MatchJobSettings.from_settings(settings)
    runner = KubernetesMatchRunner(cluster, config, poll_seconds=0.1)
    result = play(runner, [build("fair", FAIR), build("fair", FAIR)])
    assert result.status is MatchStatus.ERROR
    assert "the referee cannot start (ErrImagePull" in (result.error or "")
    assert all(agent.status is AgentStatus.DONE for agent in result.agents)
    assert no_jobs_left(cluster)
