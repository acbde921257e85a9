"""The kubernetes match runner on the fake API server with a scripted kubelet: the referee's
result read from its log and recorded as it is; everything the cluster does to a match
(a referee that cannot start or fails, a pod evicted, a Job deleted by someone else, a cancel)
is the platform's error, never an agent's loss; the Job is always deleted with its pod."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import urllib3
from kubernetes import client
from kubernetes.client.rest import ApiException

from botarena.executor import wire
from botarena.executor.artifacts import ArtifactPolicy
from botarena.executor.client import ExecutorUnavailableError
from botarena.executor.credentials import EXECUTOR
from botarena.executor.grpc_service import ExecutorServicer, serve
from botarena.executor.kubernetes.manifests import MatchJobSettings, match_job_name
from botarena.executor.match import run_match
from botarena.executor.match_document import RefereeSpec, result_lines
from botarena.executor.outcomes import AgentOutcome, AgentStatus, MatchResult, MatchStatus
from botarena.executor.prepare import PreparedAgent
from botarena.executor.referee import RefereeOptions
from botarena.executor.runners.base import MatchRunner
from botarena.executor.runners.kubernetes import KubernetesMatchRunner
from botarena.executor.stop import StopSignal
from botarena.games.registry import get_game
from botarena.settings import Settings

from support.executors import authority, dispatcher_client
from support.kubefake import FakeKubernetes, Outcome, ScriptedKubelet

NAMESPACE = "botarena-matches"
MATCH = "mat-00000000000000000000beef"
IMAGES = ("registry.example.org/a@sha256:" + "1" * 64, "registry.example.org/b@sha256:" + "2" * 64)


def played(winner: int = 0, *, loser: AgentStatus = AgentStatus.DONE) -> MatchResult:
    agents = [AgentOutcome(log="thinking\n"), AgentOutcome(status=loser, log="oops\n")]
    if loser is not AgentStatus.DONE:
        agents[1].reason = "raised"
    return MatchResult(
        MatchStatus.FINISHED,
        winner,
        [1.0, -1.0],
        agents,
        turns=7,
        duration_ms=1234,
        replay={"game": "connectx", "steps": [], "agents": [a.as_json() for a in agents]},
    )


def referee_says(result: MatchResult, **kwargs: Any) -> Outcome:
    """A pod whose referee prints ``result`` (some log lines first) and exits 0."""
    logs = "starting\n" + result_lines(result)
    return Outcome(containers={"referee": Outcome(logs=logs)}, **kwargs)


@pytest.fixture
def cluster(
    fake_kubernetes: FakeKubernetes, kubernetes_api: client.ApiClient
) -> tuple[ScriptedKubelet, client.ApiClient]:
    client.CoreV1Api(kubernetes_api).create_namespace({"metadata": {"name": NAMESPACE}})
    kubelet = fake_kubernetes.kubelet
    assert isinstance(kubelet, ScriptedKubelet)
    return kubelet, kubernetes_api


@pytest.fixture
def runner(cluster: tuple[ScriptedKubelet, client.ApiClient]) -> KubernetesMatchRunner:
    settings = Settings(_env_file=None)  # type: ignore[call-arg]
    config = MatchJobSettings.from_settings(settings)
    return KubernetesMatchRunner(cluster[1], config, poll_seconds=0.02)


def play(runner: KubernetesMatchRunner, stop: StopSignal | None = None) -> MatchResult:
    game = get_game("connectx")
    agents = [PreparedAgent.from_image(n, image) for n, image in zip("ab", IMAGES, strict=True)]
    return runner.play_match(MATCH, game, game.configure({}), agents, seed=3, stop=stop)


def jobs(api: client.ApiClient) -> list[Any]:
    return list(client.BatchV1Api(api).list_namespaced_job(NAMESPACE).items)


def pods(api: client.ApiClient) -> list[Any]:
    return list(client.CoreV1Api(api).list_namespaced_pod(NAMESPACE).items)


def gone(api: client.ApiClient) -> bool:
    """The Job and its pod are removed (Background deletion: the pod goes right after)."""
    for _ in range(100):
        if not jobs(api) and not pods(api):
            return True
        time.sleep(0.02)
    return False


def meanwhile(action: Callable[[], None], *, after_running: client.ApiClient) -> threading.Thread:
    """Run ``action`` once the match's pod runs."""

    def wait_then_act() -> None:
        for _ in range(500):
            if any(p.status.phase == "Running" for p in pods(after_running)):
                break
            time.sleep(0.01)
        action()

    thread = threading.Thread(target=wait_then_act, daemon=True)
    thread.start()
    return thread


def test_the_runner_is_a_match_runner(runner: KubernetesMatchRunner) -> None:
    assert isinstance(runner, MatchRunner)
    assert "Kubernetes Jobs in botarena-matches" in runner.isolation


def test_the_referees_result_is_the_matchs_and_the_job_is_deleted(
    runner: KubernetesMatchRunner, cluster: tuple[ScriptedKubelet, client.ApiClient]
) -> None:
    kubelet, api = cluster
    kubelet.default = referee_says(played(0, loser=AgentStatus.ERROR))
    result = play(runner)
    assert result.status is MatchStatus.FINISHED
    assert (result.winner, result.scores, result.turns) == (0, [1.0, -1.0], 7)
    assert [a.status for a in result.agents] == [AgentStatus.DONE, AgentStatus.ERROR]
    assert [a.log for a in result.agents] == ["thinking\n", "oops\n"]
    assert result.replay["game"] == "connectx"
    assert gone(api)
    networking = client.NetworkingV1Api(api)
    [policy] = networking.list_namespaced_network_policy(NAMESPACE).items
    assert policy.spec.policy_types == ["Ingress", "Egress"]


def test_a_referee_that_cannot_be_pulled_is_the_platforms_error(
    runner: KubernetesMatchRunner, cluster: tuple[ScriptedKubelet, client.ApiClient]
) -> None:
    kubelet, api = cluster
    kubelet.default = Outcome(image_missing=True)
    result = play(runner)
    assert result.status is MatchStatus.ERROR
    assert "ErrImagePull" in (result.error or "") or "ImagePullBackOff" in (result.error or "")
    assert all(a.status is AgentStatus.DONE for a in result.agents)  # no agent's loss
    assert gone(api)


def test_a_referee_that_fails_is_the_platforms_error(
    runner: KubernetesMatchRunner, cluster: tuple[ScriptedKubelet, client.ApiClient]
) -> None:
    kubelet, _ = cluster
    kubelet.default = Outcome(
        containers={"referee": Outcome(exit_code=1, message="Traceback: KeyError")}
    )
    result = play(runner)
    assert result.status is MatchStatus.ERROR
    assert "the referee failed" in (result.error or "")
    assert "KeyError" in (result.error or "")


def test_a_referee_that_left_no_result_is_the_platforms_error(
    runner: KubernetesMatchRunner, cluster: tuple[ScriptedKubelet, client.ApiClient]
) -> None:
    kubelet, _ = cluster
    kubelet.default = Outcome(containers={"referee": Outcome(logs="nothing to see\n")})
    result = play(runner)
    assert result.status is MatchStatus.ERROR
    assert "no result" in (result.error or "")


def test_a_pod_evicted_mid_match_is_handed_back_not_lost(
    runner: KubernetesMatchRunner, cluster: tuple[ScriptedKubelet, client.ApiClient]
) -> None:
    kubelet, api = cluster
    kubelet.default = referee_says(played(), hold=True)
    core = client.CoreV1Api(api)

    def evict() -> None:
        [pod] = pods(api)
        status = {"phase": "Failed", "reason": "Evicted", "message": "The node was low on memory."}
        core.patch_namespaced_pod_status(pod.metadata.name, NAMESPACE, {"status": status})

    meanwhile(evict, after_running=api)
    result = play(runner)
    assert result.status is MatchStatus.ERROR, result
    assert "Evicted" in (result.error or "")
    assert all(a.status is AgentStatus.DONE for a in result.agents)
    assert gone(api)


def test_a_job_deleted_by_someone_else_is_the_platforms_error(
    runner: KubernetesMatchRunner, cluster: tuple[ScriptedKubelet, client.ApiClient]
) -> None:
    kubelet, api = cluster
    kubelet.default = referee_says(played(), hold=True)
    batch = client.BatchV1Api(api)

    def delete() -> None:
        [job] = jobs(api)
        batch.delete_namespaced_job(job.metadata.name, NAMESPACE, propagation_policy="Background")

    meanwhile(delete, after_running=api)
    result = play(runner)
    assert result.status is MatchStatus.ERROR
    assert "deleted" in (result.error or "")
    assert gone(api)


def test_a_cancel_deletes_the_job_at_once(
    runner: KubernetesMatchRunner, cluster: tuple[ScriptedKubelet, client.ApiClient]
) -> None:
    kubelet, api = cluster
    kubelet.default = referee_says(played(), hold=True)
    stop = StopSignal()
    meanwhile(stop.set, after_running=api)
    try:
        result = play(runner, stop)
    finally:
        stop.close()
    assert result.status is MatchStatus.ERROR
    assert "stopped" in (result.error or "")
    assert gone(api)


def test_a_job_an_earlier_play_of_the_match_left_is_deleted_first(
    runner: KubernetesMatchRunner, cluster: tuple[ScriptedKubelet, client.ApiClient]
) -> None:
    kubelet, api = cluster
    first = match_job_name(MATCH, "000000")
    leftover = {
        "metadata": {"name": first, "labels": {"botarena.io/match": MATCH}},
        "spec": {
            "backoffLimit": 0,
            "template": {
                "spec": {"restartPolicy": "Never", "containers": [{"name": "x", "image": "x:1"}]}
            },
        },
    }
    client.BatchV1Api(api).create_namespaced_job(NAMESPACE, leftover)  # an executor that died
    kubelet.default = referee_says(played(1))
    result = play(runner)
    assert result.status is MatchStatus.FINISHED and result.winner == 1
    assert first not in [j.metadata.name for j in jobs(api)]
    assert gone(api)


def _pod(**agent_states: dict[str, Any]) -> Any:
    statuses = [
        client.V1ContainerStatus(
            name=name,
            image="x",
            image_id="",
            ready=False,
            restart_count=0,
            started="running" in state or "terminated" in state,
            state=client.V1ContainerState(
                waiting=client.V1ContainerStateWaiting(**state["waiting"])
                if "waiting" in state
                else None,
                terminated=client.V1ContainerStateTerminated(**state["terminated"])
                if "terminated" in state
                else None,
            ),
        )
        for name, state in agent_states.items()
    ]
    return client.V1Pod(
        metadata=client.V1ObjectMeta(name="p"),
        status=client.V1PodStatus(container_statuses=statuses),
    )


def test_an_agent_whose_container_never_started_lost_to_the_cluster(
    runner: KubernetesMatchRunner,
) -> None:
    result = played(0, loser=AgentStatus.TIMEOUT)
    pod = _pod(
        **{
            "agent-0": {"terminated": {"exit_code": 0}},
            "agent-1": {"waiting": {"reason": "ImagePullBackOff", "message": "no such image"}},
        }
    )
    with pytest.raises(Exception, match="agent 1's container never started"):
        runner._judge_agents(result, pod)


def test_an_agent_killed_for_its_memory_says_so(runner: KubernetesMatchRunner) -> None:
    result = played(0, loser=AgentStatus.ERROR)
    pod = _pod(
        **{
            "agent-0": {"terminated": {"exit_code": 0}},
            "agent-1": {"terminated": {"exit_code": 137, "reason": "OOMKilled"}},
        }
    )
    judged = runner._judge_agents(result, pod)
    assert judged.agents[1].status is AgentStatus.ERROR
    assert judged.agents[1].reason == "killed: out of memory (limit 512Mi)"
    assert judged.replay["agents"][1]["reason"] == judged.agents[1].reason
    assert judged.agents[1].log == "oops\n"


def test_an_executor_killed_mid_match_leaves_a_job_the_next_play_replaces(
    fake_kubernetes: FakeKubernetes,
    cluster: tuple[ScriptedKubelet, client.ApiClient],
    runner: KubernetesMatchRunner,
    tmp_path: Path,
) -> None:
    """``botarena executor`` with BOTARENA_MATCH_RUNNER=kubernetes is killed (SIGKILL) while
    its match's pod plays: the dispatcher hears of it at once (and hands the match back), the
    Job stays behind, and the match's next play deletes it before playing to its one result."""
    kubelet, api = cluster
    kubelet.default = referee_says(played(), hold=True)
    authority(tmp_path)
    environment = {
        **os.environ,
        "BOTARENA_DATA_DIR": str(tmp_path),
        "BOTARENA_MATCH_RUNNER": "kubernetes",
        "BOTARENA_K8S_KUBECONFIG": str(fake_kubernetes.kubeconfig),
    }
    process = subprocess.Popen(
        [sys.executable, "-m", "botarena", "executor", "--listen", "127.0.0.1:0"],
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        env=environment,
        text=True,
    )
    agents = [PreparedAgent.from_image(n, f"botarena/agent-{n}:latest") for n in "ab"]
    spec = wire.match_spec(MATCH, "connectx", {}, 3, [wire.agent_spec(a) for a in agents])
    try:
        assert process.stdout is not None
        port = int(process.stdout.readline().strip().rsplit(":", 1)[1])
        with dispatcher_client(f"127.0.0.1:{port}", tmp_path) as caller:
            events = caller.run_match(spec, silence_timeout=10)
            assert "Kubernetes Jobs" in next(events).started.isolation
            for _ in range(500):
                if any(p.status.phase == "Running" for p in pods(api)):
                    break
                time.sleep(0.01)
            os.kill(process.pid, signal.SIGKILL)
            with pytest.raises(ExecutorUnavailableError):
                for _ in events:
                    pass
    finally:
        process.kill()
        process.wait(10)
    [left] = jobs(api)  # nobody deleted it: the executor died
    assert left.metadata.labels["botarena.io/match"] == MATCH

    kubelet.default = referee_says(played(1))
    game = get_game("connectx")
    result = runner.play_match(MATCH, game, game.configure({}), agents, seed=3)
    assert result.status is MatchStatus.FINISHED and result.winner == 1
    assert gone(api)  # the leftover and the new Job both


def test_a_match_cancelled_through_the_executor_deletes_its_job(
    cluster: tuple[ScriptedKubelet, client.ApiClient],
    runner: KubernetesMatchRunner,
    tmp_path: Path,
) -> None:
    """The dispatcher cancels the call (POST /matches/{id}/cancel): the Job goes at once."""
    kubelet, api = cluster
    kubelet.default = referee_says(played(), hold=True)
    settings = Settings(_env_file=None, data_dir=tmp_path)  # type: ignore[call-arg]
    service = ExecutorServicer(
        runner, ArtifactPolicy.from_settings(settings), heartbeat_seconds=0.05
    )
    server, port = serve(service, "127.0.0.1:0", authority(tmp_path).issue(EXECUTOR))
    agents = [PreparedAgent.from_image(n, f"botarena/agent-{n}:latest") for n in "ab"]
    spec = wire.match_spec(MATCH, "connectx", {}, 3, [wire.agent_spec(a) for a in agents])
    try:
        with dispatcher_client(f"127.0.0.1:{port}", tmp_path) as caller:
            call = caller.run_match(spec)
            assert next(call).HasField("started")
            for _ in range(500):
                if jobs(api) and any(p.status.phase == "Running" for p in pods(api)):
                    break
                time.sleep(0.01)
            assert jobs(api)
            call.cancel()
            assert gone(api)
    finally:
        server.stop(grace=1).wait()
        service.close()


class _Recording(KubernetesMatchRunner):
    """Reads each Job back before deleting it."""

    seen: list[Any]

    def delete_job(self, name: str) -> None:
        self.seen.append(self.batch.read_namespaced_job(name, NAMESPACE))
        super().delete_job(name)


def test_run_match_hands_a_whole_match_to_a_match_runner(
    cluster: tuple[ScriptedKubelet, client.ApiClient],
) -> None:
    """As a build's validation match plays it: no match id (a fresh one), its own startup
    limit carried to the referee."""
    kubelet, api = cluster
    kubelet.default = referee_says(played(0))
    config = MatchJobSettings.from_settings(Settings(_env_file=None))  # type: ignore[call-arg]
    recording = _Recording(api, config, poll_seconds=0.02)
    recording.seen = []
    game = get_game("connectx")
    agents = [PreparedAgent.from_image(n, image) for n, image in zip("ab", IMAGES, strict=True)]
    result = run_match(
        game,
        game.configure({}),
        agents,
        recording,
        options=RefereeOptions(startup_timeout=5.0),
    )
    assert result.status is MatchStatus.FINISHED and result.winner == 0
    [job] = recording.seen
    assert job.metadata.labels["botarena.io/match"].startswith("run-")
    env = {e.name: e.value for e in job.spec.template.spec.containers[0].env}
    assert RefereeSpec.from_json(env["BOTARENA_REFEREE_SPEC"]).startup_timeout == 5.0


def test_health_asks_the_cluster_and_no_local_sandbox(
    runner: KubernetesMatchRunner, tmp_path: Path
) -> None:
    settings = Settings(_env_file=None, data_dir=tmp_path)  # type: ignore[call-arg]
    service = ExecutorServicer(runner, ArtifactPolicy.from_settings(settings))
    try:
        checks = service.standard_health.checks()
        assert [(c.name, c.ok) for c in checks] == [("serving", True), ("containers", True)]
        nowhere = client.Configuration(host="http://127.0.0.1:9")
        runner.api = client.ApiClient(nowhere)
        [_, cluster] = service.standard_health.checks()
        assert not cluster.ok
        assert "the Kubernetes API does not answer" in (cluster.detail or "")
    finally:
        service.close()


class _Flaky:
    """The Jobs API, failing its first ``failures`` reads of a Job with ``error``."""

    def __init__(self, batch: Any, failures: int, error: Exception) -> None:
        self.batch, self.failures, self.error = batch, failures, error

    def __getattr__(self, name: str) -> Any:
        return getattr(self.batch, name)

    def read_namespaced_job(self, *args: Any, **kwargs: Any) -> Any:
        if self.failures > 0:
            self.failures -= 1
            raise self.error
        return self.batch.read_namespaced_job(*args, **kwargs)


def test_a_few_failed_reads_do_not_lose_the_match(
    runner: KubernetesMatchRunner, cluster: tuple[ScriptedKubelet, client.ApiClient]
) -> None:
    kubelet, api = cluster
    kubelet.default = referee_says(played(1))
    runner.batch = _Flaky(runner.batch, 4, ApiException(status=503, reason="Unavailable"))
    result = play(runner)
    assert result.status is MatchStatus.FINISHED and result.winner == 1
    assert gone(api)


def test_an_api_that_stays_away_is_the_platforms_error(
    runner: KubernetesMatchRunner, cluster: tuple[ScriptedKubelet, client.ApiClient]
) -> None:
    kubelet, api = cluster
    kubelet.default = referee_says(played(), hold=True)
    away = urllib3.exceptions.MaxRetryError(None, "/apis/batch/v1", "connection refused")  # type: ignore[arg-type]
    runner.batch = _Flaky(runner.batch, 10**6, away)
    result = play(runner)
    assert result.status is MatchStatus.ERROR
    assert "did not answer 10 times in a row" in (result.error or "")
    assert gone(api)  # its deletion was still sent
