"""The kubernetes backend through the real pipeline against the fake API server whose kubelet
runs pods on the test engine and builds with the Kaniko stand-in: the context streamed over
attach, the image pushed to the test registry, its digest recorded and played by digest."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from fastapi.testclient import TestClient

from botarena.builds.backends.base import Artifact
from botarena.builds.backends.kubernetes import KubernetesBackend
from botarena.db.engine import SessionFactory
from botarena.executor.sandbox import Limits
from botarena.executor.sandbox.limits import MIB
from botarena.settings import Settings

from support.accounts import Account
from support.api import create_agent, submit_archive, zip_files
from support.docker import Engine, Registry
from support.kube_builds import claim_and_build, kube_settings, prepare_cluster
from support.kubefake import FakeKubernetes
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
