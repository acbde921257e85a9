"""The kubernetes backend against the fake API server with scripted pods (fast): each way a
build Job can end and the reason the build gets, the watch through a 410 and a dropped
stream, a Job deleted by someone else, and the monitor's sweep."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from kubernetes import client as kube
from kubernetes import config
from sqlalchemy import select

from botarena.builds.backends.base import Artifact, BuildTarget
from botarena.builds.backends.kubernetes import KubernetesBackend
from botarena.builds.kubernetes.manifests import (
    CONTEXT_SENT_ANNOTATION,
    BuildJobSettings,
    build_job,
)
from botarena.builds.log import BuildLog
from botarena.builds.models import BuildAttempt
from botarena.builds.workers import BuildWorkers
from botarena.db.engine import SessionFactory
from botarena.settings import Settings

from support.accounts import Account
from support.api import create_agent, submit_archive, zip_files
from support.docker import Engine
from support.kube_builds import claim_and_build, kube_settings, prepare_cluster
from support.kubefake import FakeKubernetes, Outcome, ScriptedKubelet, start_fake_kubernetes
from support.kubefake import Settings as FakeSettings

pytestmark = pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)

DIGEST = "sha256:" + "d1" * 32
REGISTRY = "registry.example.org/botarena"
NAMESPACE = "botarena-builds"
KANIKO_FAILED_RUN = (
    "error building image: error building stage: failed to execute command: "
    "waiting for process to exit: exit status 3"
)


def eventually(probe: Callable[[], Any], seconds: float = 15) -> Any:
    deadline = time.monotonic() + seconds
    while True:
        value = probe()
        if value:
            return value
        if time.monotonic() > deadline:
            pytest.fail(f"not true after {seconds} s: {probe}")
        time.sleep(0.02)


@pytest.fixture(params=["event"])
def fake(request: pytest.FixtureRequest) -> Iterator[FakeKubernetes]:
    started = start_fake_kubernetes(settings=FakeSettings(gone_as=request.param))
    yield started
    started.stop()


@pytest.fixture
def kubelet(fake: FakeKubernetes) -> ScriptedKubelet:
    scripted = fake.kubelet
    assert isinstance(scripted, ScriptedKubelet)
    return scripted


@pytest.fixture
def k8s_settings(settings: Settings, fake: FakeKubernetes, docker_daemon: Engine) -> Settings:
    # The docker engine only answers unavailable_reason() here: nothing is played on it.
    made = kube_settings(settings, fake, k8s_registry=REGISTRY, docker_host=docker_daemon.url)
    prepare_cluster(fake, made)
    return made


@pytest.fixture
def backend(k8s_settings: Settings) -> Iterator[KubernetesBackend]:
    made = KubernetesBackend(k8s_settings)
    yield made
    made.close()


@pytest.fixture
def api(fake: FakeKubernetes) -> Iterator[kube.ApiClient]:
    with config.new_client_from_config(str(fake.kubeconfig)) as made:
        yield made


def _pods(api: kube.ApiClient, job: str) -> list[Any]:
    selector = f"batch.kubernetes.io/job-name={job}"
    return list(kube.CoreV1Api(api).list_namespaced_pod(NAMESPACE, label_selector=selector).items)


def _jobs(api: kube.ApiClient) -> list[str]:
    return [j.metadata.name for j in kube.BatchV1Api(api).list_namespaced_job(NAMESPACE).items]


def _received(kubelet: ScriptedKubelet, job: str) -> str | None:
    return next((pod for pod in kubelet.stdin_received if pod.startswith(job)), None)


# -- through the pipeline: each reason -----------------------------------------------------


class Submitted:
    def __init__(self, client_: TestClient, alice: Account, files: dict[str, bytes]) -> None:
        agent = create_agent(client_, alice, "scripted")
        self.sub = submit_archive(client_, alice, agent, zip_files(files))
        self.job = f"build-{self.sub}"
        self.client = client_
        self.alice = alice

    def status(self) -> dict[str, Any]:
        body: dict[str, Any] = self.client.get(
            f"/api/v1/submissions/{self.sub}/build-status"
        ).json()
        return body

    def log(self) -> str:
        answer = self.client.get(
            f"/api/v1/submissions/{self.sub}/build-logs", headers=self.alice.headers
        )
        text: str = answer.json()["buildLog"]
        return text


GENERATED = {"main.py": b"print('hi')\n", "requirements.txt": b"six\n"}
CUSTOM = {"Dockerfile": b"FROM python:3.11-slim\nRUN exit 3\n", "main.py": b"print('hi')\n"}


def _attempt(factory: SessionFactory, sub: str) -> BuildAttempt:
    with factory() as session:
        found = session.scalars(
            select(BuildAttempt)
            .where(BuildAttempt.submission_id == sub)
            .order_by(BuildAttempt.id.desc())
        ).first()
        assert found is not None
        return found


@pytest.mark.parametrize(
    ("files", "reason"),
    [(GENERATED, "dependencies_failed"), (CUSTOM, "dockerfile_failed")],
    ids=["generated", "custom"],
)
def test_a_failing_step_is_the_participants_and_not_retried(
    client: TestClient,
    alice: Account,
    k8s_settings: Settings,
    session_factory: SessionFactory,
    backend: KubernetesBackend,
    kubelet: ScriptedKubelet,
    files: dict[str, bytes],
    reason: str,
) -> None:
    built = Submitted(client, alice, files)
    logs = f"INFO[0001] RUN exit 3\nthe-step-output\n{KANIKO_FAILED_RUN}\n"
    kubelet.plan(built.job, Outcome(reads_stdin=True, logs=logs, exit_code=1))
    claim_and_build(session_factory, k8s_settings, backend, built.sub)

    status = built.status()
    assert status["status"] == "build_failed"
    assert status["errorMessage"].startswith(f"{reason}: ")
    if reason == "dockerfile_failed":
        assert status["errorMessage"].endswith("exit status 3")
    assert [h["status"] for h in status["statusHistory"]] == ["pending", "building", "build_failed"]
    assert "the-step-output" in built.log()
    # The context reached the builder: a gzipped tar.
    pod = _received(kubelet, built.job)
    assert pod is not None and kubelet.stdin_received[pod][:2] == b"\x1f\x8b"


def test_the_jobs_deadline_is_a_timeout(
    client: TestClient,
    alice: Account,
    k8s_settings: Settings,
    session_factory: SessionFactory,
    kubelet: ScriptedKubelet,
) -> None:
    settings = k8s_settings.model_copy(update={"build_timeout": 1.0})
    backend = KubernetesBackend(settings)
    built = Submitted(client, alice, GENERATED)
    kubelet.plan(built.job, Outcome(reads_stdin=True, hold=True, logs="INFO[0000] RUN slow\n"))
    try:
        claim_and_build(session_factory, settings, backend, built.sub)
    finally:
        backend.close()
    status = built.status()
    assert status["status"] == "build_failed"
    assert status["errorMessage"] == "timeout: the build took longer than its 1 s"


def _platform_fault(
    built: Submitted, factory: SessionFactory, api: kube.ApiClient, words: str
) -> None:
    """Retried as the platform's fault; the Job deleted, its pods with it."""
    status = built.status()
    assert status["status"] == "pending", built.log()
    attempt = _attempt(factory, built.sub)
    assert (attempt.outcome, attempt.reason) == ("platform_error", "internal")
    assert words in (attempt.message or ""), attempt.message
    eventually(lambda: built.job not in _jobs(api) and not _pods(api, built.job))


def test_a_builder_image_that_cannot_be_pulled_is_retried(
    client: TestClient,
    alice: Account,
    k8s_settings: Settings,
    session_factory: SessionFactory,
    backend: KubernetesBackend,
    kubelet: ScriptedKubelet,
    api: kube.ApiClient,
) -> None:
    built = Submitted(client, alice, GENERATED)
    kubelet.plan(built.job, Outcome(image_missing=True))
    claim_and_build(session_factory, k8s_settings, backend, built.sub)
    _platform_fault(built, session_factory, api, "ImagePullBackOff")


def _running_pod(api: kube.ApiClient, kubelet: ScriptedKubelet, job: str) -> str:
    return str(eventually(lambda: _received(kubelet, job)))


@pytest.mark.parametrize(
    ("status", "words"),
    [
        (
            {
                "phase": "Failed",
                "reason": "Evicted",
                "message": "The node was low on resource: ephemeral-storage.",
            },
            "Evicted",
        ),
        (
            {
                "conditions": [
                    {"type": "DisruptionTarget", "status": "True", "reason": "DeletionByPodGC"}
                ]
            },
            "DeletionByPodGC",
        ),
    ],
    ids=["evicted", "node-lost"],
)
def test_a_pod_the_cluster_ended_is_retried(
    client: TestClient,
    alice: Account,
    k8s_settings: Settings,
    session_factory: SessionFactory,
    backend: KubernetesBackend,
    kubelet: ScriptedKubelet,
    api: kube.ApiClient,
    status: dict[str, Any],
    words: str,
) -> None:
    built = Submitted(client, alice, GENERATED)
    kubelet.plan(built.job, Outcome(reads_stdin=True, hold=True))
    worker = threading.Thread(
        target=claim_and_build, args=(session_factory, k8s_settings, backend, built.sub)
    )
    worker.start()
    pod = _running_pod(api, kubelet, built.job)
    kube.CoreV1Api(api).patch_namespaced_pod_status(pod, NAMESPACE, {"status": status})
    worker.join(30)
    assert not worker.is_alive()
    _platform_fault(built, session_factory, api, words)


def test_a_job_deleted_by_someone_else_is_retried(
    client: TestClient,
    alice: Account,
    k8s_settings: Settings,
    session_factory: SessionFactory,
    backend: KubernetesBackend,
    kubelet: ScriptedKubelet,
    api: kube.ApiClient,
) -> None:
    built = Submitted(client, alice, GENERATED)
    kubelet.plan(built.job, Outcome(reads_stdin=True, hold=True))
    worker = threading.Thread(
        target=claim_and_build, args=(session_factory, k8s_settings, backend, built.sub)
    )
    worker.start()
    _running_pod(api, kubelet, built.job)
    kube.BatchV1Api(api).delete_namespaced_job(
        built.job, NAMESPACE, propagation_policy="Background"
    )
    worker.join(30)
    assert not worker.is_alive()
    _platform_fault(built, session_factory, api, "deleted")


# -- the watch -------------------------------------------------------------------------------


def _build_in_thread(
    backend: KubernetesBackend, tmp_path: Path, sub: str, attempt: int = 1
) -> tuple[threading.Thread, dict[str, Any]]:
    source = tmp_path / "src"
    source.mkdir(exist_ok=True)
    (source / "main.py").write_text("print('hi')\n")
    result: dict[str, Any] = {}
    log = BuildLog(tmp_path / f"{sub}.log")

    def run() -> None:
        try:
            result["artifact"] = backend.build(BuildTarget(sub, "agt-1", 1, attempt), source, log)
        except Exception as exc:  # a BuildFailure, or BackendUnavailable
            result["error"] = exc
        finally:
            log.close()

    thread = threading.Thread(target=run)
    thread.start()
    return thread, result


@pytest.mark.parametrize("fake", ["event", "http"], indirect=True)
def test_a_410_mid_build_relists_and_the_build_ends_as_it_should(
    fake: FakeKubernetes,
    backend: KubernetesBackend,
    kubelet: ScriptedKubelet,
    api: kube.ApiClient,
    tmp_path: Path,
) -> None:
    kubelet.plan("build-sub-gone", Outcome(reads_stdin=True, hold=True, message=DIGEST))
    thread, result = _build_in_thread(backend, tmp_path, "sub-gone")
    pod = _running_pod(api, kubelet, "build-sub-gone")
    watch = backend.watch()
    fake.expire_watches()  # compacted: every open watch gets 410, and so does resuming
    eventually(lambda: watch.relists >= 2)
    kubelet.release(pod)
    thread.join(30)
    artifact: Artifact = result["artifact"]
    assert artifact.digest == DIGEST
    assert artifact.image == f"{REGISTRY}/agent-agt-1:sub-gone-v1@{DIGEST}"


def test_a_dropped_watch_reconnects_and_misses_nothing(
    fake: FakeKubernetes,
    backend: KubernetesBackend,
    kubelet: ScriptedKubelet,
    api: kube.ApiClient,
    tmp_path: Path,
) -> None:
    kubelet.plan("build-sub-drop", Outcome(reads_stdin=True, hold=True, message=DIGEST))
    thread, result = _build_in_thread(backend, tmp_path, "sub-drop")
    pod = _running_pod(api, kubelet, "build-sub-drop")
    watch = backend.watch()
    fake.drop_watches()
    kubelet.release(pod)  # the end happens while the streams are down
    thread.join(30)
    assert result.get("artifact") is not None, result
    assert result["artifact"].digest == DIGEST
    assert watch.reconnects >= 1 and watch.relists == 0


def test_a_running_job_of_an_earlier_attempt_is_picked_up_not_rebuilt(
    backend: KubernetesBackend,
    k8s_settings: Settings,
    kubelet: ScriptedKubelet,
    api: kube.ApiClient,
    tmp_path: Path,
) -> None:
    kubelet.plan("build-sub-again", Outcome(reads_stdin=True, hold=True, message=DIGEST))
    first, first_result = _build_in_thread(backend, tmp_path, "sub-again")
    pod = _running_pod(api, kubelet, "build-sub-again")
    backend.close()  # the process that started it is gone
    first.join(30)
    assert "closed" in str(first_result["error"])

    again = KubernetesBackend(k8s_settings)
    try:
        thread, result = _build_in_thread(again, tmp_path, "sub-again", attempt=2)
        eventually(lambda: "picked up" in (tmp_path / "sub-again.log").read_text())
        kubelet.release(pod)
        thread.join(30)
    finally:
        again.close()
    assert result["artifact"].digest == DIGEST
    assert _jobs(api) == ["build-sub-again"]  # no build-sub-again-2
    assert kubelet.started == [pod]


def test_a_job_picked_up_that_never_got_its_context_is_made_again(
    backend: KubernetesBackend,
    k8s_settings: Settings,
    kubelet: ScriptedKubelet,
    api: kube.ApiClient,
    tmp_path: Path,
) -> None:
    # What a process that died between creating the Job and sending its context left: a
    # Job whose builder waits on stdin, without the mark a sent context leaves.
    orphan = build_job(
        BuildJobSettings.from_settings(k8s_settings),
        submission_id="sub-orphan",
        agent_id="agt-1",
        version=1,
        attempt=1,
    )
    kubelet.plan("build-sub-orphan", Outcome(reads_stdin=True, hold=True, message=DIGEST))
    kube.BatchV1Api(api).create_namespaced_job(NAMESPACE, orphan)
    kubelet.plan("build-sub-orphan-2", Outcome(reads_stdin=True, message=DIGEST))
    thread, result = _build_in_thread(backend, tmp_path, "sub-orphan", attempt=2)
    thread.join(30)
    assert result["artifact"].digest == DIGEST, result
    text = (tmp_path / "sub-orphan.log").read_text()
    assert "build-sub-orphan never got its context" in text and "picked up" not in text
    eventually(lambda: _jobs(api) == ["build-sub-orphan-2"])
    job = kube.BatchV1Api(api).read_namespaced_job("build-sub-orphan-2", NAMESPACE)
    assert job.metadata.annotations == {CONTEXT_SENT_ANNOTATION: "true"}


# -- the monitor's sweep ---------------------------------------------------------------------


def test_the_sweep_deletes_jobs_nothing_waits_for(
    client: TestClient,
    alice: Account,
    k8s_settings: Settings,
    session_factory: SessionFactory,
    backend: KubernetesBackend,
    kubelet: ScriptedKubelet,
    api: kube.ApiClient,
    tmp_path: Path,
) -> None:
    waited = Submitted(client, alice, GENERATED)  # pending: its Job is kept
    for job in (waited.job, "build-sub-forgotten"):
        kubelet.plan(job, Outcome(reads_stdin=True, hold=True, message=DIGEST))
    threads = [_build_in_thread(backend, tmp_path, sub)[0] for sub in (waited.sub, "sub-forgotten")]
    eventually(lambda: len(kubelet.started) == 2)
    BuildWorkers(session_factory, k8s_settings, backend).reconcile()

    eventually(lambda: _jobs(api) == [waited.job] and not _pods(api, "build-sub-forgotten"))
    backend.close()
    for thread in threads:
        thread.join(30)


def test_unavailable_without_a_registry_or_an_api(
    k8s_settings: Settings, backend: KubernetesBackend, fake: FakeKubernetes, tmp_path: Path
) -> None:
    assert backend.unavailable_reason() is None
    no_registry = KubernetesBackend(k8s_settings.model_copy(update={"k8s_registry": None}))
    assert "BOTARENA_K8S_REGISTRY" in (no_registry.unavailable_reason() or "")
    # The same cluster's kubeconfig, but nothing listens at its address any more.
    with socket.socket() as unused:
        unused.bind(("127.0.0.1", 0))
        port = unused.getsockname()[1]
    text = fake.kubeconfig.read_text().replace(fake.url, f"https://127.0.0.1:{port}")
    (tmp_path / "kubeconfig").write_text(text)
    away = KubernetesBackend(
        k8s_settings.model_copy(update={"k8s_kubeconfig": tmp_path / "kubeconfig"})
    )
    try:
        reason = away.unavailable_reason() or ""
    finally:
        away.close()
    assert reason.startswith("the Kubernetes API cannot be reached"), reason
    assert "BOTARENA_K8S_KUBECONFIG" in reason


def test_a_rebuild_replaces_the_finished_job_of_the_same_name(
    backend: KubernetesBackend, kubelet: ScriptedKubelet, api: kube.ApiClient, tmp_path: Path
) -> None:
    rebuilt = "sha256:" + "e2" * 32
    kubelet.plan(
        "build-sub-twice",
        Outcome(reads_stdin=True, message=DIGEST),
        Outcome(reads_stdin=True, message=rebuilt),
    )
    first, first_result = _build_in_thread(backend, tmp_path, "sub-twice")
    first.join(30)
    assert first_result["artifact"].digest == DIGEST

    def complete() -> bool:
        found = kube.BatchV1Api(api).read_namespaced_job("build-sub-twice", NAMESPACE)
        return any(c.type == "Complete" for c in found.status.conditions or [])

    eventually(complete)  # a rebuild comes after the build's outcome, long after
    # A rebuild counts its attempts from 1 again: the same Job name, a fresh build.
    again, result = _build_in_thread(backend, tmp_path, "sub-twice")
    again.join(30)
    assert result["artifact"].digest == rebuilt
    assert len(kubelet.started) == 2
    assert _jobs(api) == ["build-sub-twice"]
