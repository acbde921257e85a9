"""The kubernetes backend through the real pipeline against the fake API server whose kubelet
runs pods on the test engine and builds with the Kaniko stand-in: the context streamed over
attach, the image pushed to the test registry, its digest recorded and played by digest."""

from __future__ import annotations

import re
import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from fastapi.testclient import TestClient
from kubernetes import client as kube
from kubernetes import config

from botarena.builds.backends.base import Artifact
from botarena.builds.backends.kubernetes import KubernetesBackend
from botarena.builds.pipeline import BuildPipeline
from botarena.builds.queue import BuildQueue
from botarena.builds.workers import BuildWorkers
from botarena.db.engine import SessionFactory
from botarena.executor.sandbox import Limits
from botarena.executor.sandbox.limits import MIB
from botarena.settings import Settings
from botarena.storage import build_log_path

from support.accounts import Account
from support.api import create_agent, submit_archive, zip_files
from support.docker import Engine, Registry
from support.kube_builds import claim_and_build, kube_settings, prepare_cluster
from support.kubefake import FakeKubernetes
from support.kubefake.docker_kubelet import DockerKubelet
from support.rows import submission_row

pytestmark = pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)

EXAMPLES = Path(__file__).resolve().parents[3] / "examples" / "agents"
RANDOM_AGENT = (EXAMPLES / "connectx-random" / "main.py").read_bytes()


@pytest.fixture
def k8s_settings(
    settings: Settings,
    kaniko_kubernetes: FakeKubernetes,
    docker_daemon: Engine,
    python_image: str,
    registry: Registry,
) -> Settings:
    made = kube_settings(
        settings,
        kaniko_kubernetes,
        k8s_registry=registry.address,
        docker_host=docker_daemon.url,
        docker_base_image=python_image,
    )
    prepare_cluster(kaniko_kubernetes, made)
    return made


@pytest.fixture
def backend(k8s_settings: Settings) -> Iterator[KubernetesBackend]:
    made = KubernetesBackend(k8s_settings, Limits(memory_bytes=256 * MIB, pids=64))
    yield made
    made.close()


def test_a_build_pushes_its_image_records_the_digest_and_plays_it(
    client: TestClient,
    alice: Account,
    k8s_settings: Settings,
    session_factory: SessionFactory,
    backend: KubernetesBackend,
    registry: Registry,
    kaniko_kubernetes: FakeKubernetes,
) -> None:
    assert backend.unavailable_reason() is None
    agent = create_agent(client, alice, "kaniko-built")
    sub = submit_archive(client, alice, agent, zip_files({"main.py": RANDOM_AGENT}))
    claim_and_build(session_factory, k8s_settings, backend, sub)

    status = client.get(f"/api/v1/submissions/{sub}/build-status").json()
    log = client.get(f"/api/v1/submissions/{sub}/build-logs", headers=alice.headers).json()
    assert status["status"] == "success", log["buildLog"]
    image = status["dockerImageUrl"]
    match = re.fullmatch(
        rf"{registry.address}/agent-{agent}:{sub}-v1@(sha256:[0-9a-f]{{64}})", image
    )
    assert match, image
    digest = match.group(1)
    manifest = httpx.get(
        f"http://{registry.address}/v2/agent-{agent}/manifests/{sub}-v1",
        headers={"Accept": "application/vnd.docker.distribution.manifest.v2+json"},
    )
    assert manifest.headers["Docker-Content-Digest"] == digest
    artifact = Artifact.from_json(submission_row(session_factory, sub).artifact or "")
    assert (artifact.backend, artifact.digest, artifact.image) == ("kubernetes", digest, image)
    assert status["buildJobName"] == f"build-{sub}"
    assert status["buildPodName"].startswith(f"build-{sub}-")
    text = log["buildLog"]
    assert "building from a generated Dockerfile" in text
    assert f"created the build Job build-{sub}" in text
    assert "sent the build context" in text
    assert "Taking snapshot of full filesystem" in text, text  # Kaniko's log, followed
    assert "validating" in text and "build succeeded" in text


def test_a_failing_run_step_of_the_submissions_dockerfile(
    client: TestClient,
    alice: Account,
    k8s_settings: Settings,
    session_factory: SessionFactory,
    backend: KubernetesBackend,
    python_image: str,
) -> None:
    dockerfile = f"FROM {python_image}\nRUN echo the-step-output && exit 3\n".encode()
    agent = create_agent(client, alice, "kaniko-broken")
    files = {"Dockerfile": dockerfile, "main.py": RANDOM_AGENT}
    sub = submit_archive(client, alice, agent, zip_files(files))
    claim_and_build(session_factory, k8s_settings, backend, sub)

    status = client.get(f"/api/v1/submissions/{sub}/build-status").json()
    log = client.get(f"/api/v1/submissions/{sub}/build-logs", headers=alice.headers).json()
    message = status["errorMessage"]
    assert status["status"] == "build_failed", log["buildLog"]
    assert message.startswith("dockerfile_failed: the Dockerfile did not build: error building")
    assert message.endswith("exit status 3")
    assert "the-step-output" in log["buildLog"]
    assert [h["status"] for h in status["statusHistory"]] == ["pending", "building", "build_failed"]


def test_after_a_restart_the_running_job_is_picked_up_not_built_again(
    client: TestClient,
    alice: Account,
    k8s_settings: Settings,
    session_factory: SessionFactory,
    backend: KubernetesBackend,
    kaniko_kubernetes: FakeKubernetes,
) -> None:
    agent = create_agent(client, alice, "kaniko-restarted")
    sub = submit_archive(client, alice, agent, zip_files({"main.py": RANDOM_AGENT}))
    # The process that claimed the build: an earlier one on this machine.
    earlier = KubernetesBackend(k8s_settings)
    old_worker = f"{socket.gethostname()}:1:before-the-restart:0"
    with session_factory() as session:
        assert BuildQueue(session).claim_next(old_worker, earlier.name, 60) is not None
        session.commit()
    first = threading.Thread(
        target=BuildPipeline(session_factory, k8s_settings, earlier, worker=old_worker).run,
        args=(sub,),
    )
    first.start()
    log_file = build_log_path(k8s_settings, sub)
    deadline = time.monotonic() + 60
    while not log_file.exists() or "sent the build context" not in log_file.read_text():
        assert time.monotonic() < deadline, "the context was not sent"
        time.sleep(0.05)

    # The restart: the new process hands the build back; the old one is gone for good.
    assert BuildWorkers(session_factory, k8s_settings, backend).recover() == 1
    earlier.close()
    first.join(30)
    claim_and_build(session_factory, k8s_settings, backend, sub)

    status = client.get(f"/api/v1/submissions/{sub}/build-status").json()
    text = client.get(f"/api/v1/submissions/{sub}/build-logs", headers=alice.headers).json()[
        "buildLog"
    ]
    assert status["status"] == "success", text
    assert f"picked up the build Job build-{sub}" in text
    kubelet = kaniko_kubernetes.kubelet
    assert isinstance(kubelet, DockerKubelet) and kubelet.kaniko is not None
    assert len(kubelet.kaniko.builds) == 1  # built once
    with config.new_client_from_config(str(kaniko_kubernetes.kubeconfig)) as api:
        jobs = kube.BatchV1Api(api).list_namespaced_job(k8s_settings.k8s_build_namespace)
    # No Job of a second attempt; the picked-up one, finished, is retired after the build.
    assert [job.metadata.name for job in jobs.items] in ([], [f"build-{sub}"])
    assert text.count("created the build Job") == 1
    history = [h["status"] for h in status["statusHistory"]]
    assert history == ["pending", "building", "pending", "building", "success"]
    # The log of the picked-up Job was followed from its start.
    assert text.count("Taking snapshot of full filesystem") >= 1
