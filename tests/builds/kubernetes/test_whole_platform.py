"""The platform with both Kubernetes modes on the fake API server: builds as Kaniko Jobs
(the stand-in building on the test engine and pushing to the test registry), the validation
match and every ladder match as match Jobs (the Docker kubelet running the referee's
stand-in image and the agents' pushed images). Submissions go in through the API and come
out ranked on the leaderboard, with nothing built or played outside the cluster's Jobs."""

from __future__ import annotations

from pathlib import Path

import pytest
from kubernetes import config

from botarena.settings import Settings

from support.accounts import Account
from support.docker import Registry
from support.kube_builds import kube_settings, prepare_cluster
from support.kube_platform import ensure_namespace, play_the_platform
from support.kubefake import FakeKubernetes

pytestmark = pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)

EXAMPLES = Path(__file__).resolve().parents[3] / "examples" / "agents"
RANDOM_AGENT = (EXAMPLES / "connectx-random" / "main.py").read_bytes()


def test_submissions_are_built_validated_and_ranked_through_kubernetes_jobs(
    settings: Settings,
    kaniko_kubernetes: FakeKubernetes,
    python_image: str,
    referee_image: str,
    registry: Registry,
    alice: Account,
    bob: Account,
) -> None:
    on_the_cluster = kube_settings(
        settings,
        kaniko_kubernetes,
        k8s_registry=registry.address,
        docker_base_image=python_image,
        # No Docker engine of the platform's own: what runs, runs in the cluster's pods.
        docker_host="unix:///nonexistent/docker.sock",
        match_runner="kubernetes",
        k8s_referee_image=referee_image,
        builds_enabled=True,
        matches_enabled=True,
        ladder_enabled=True,
        ladder_interval=0.2,
    )
    prepare_cluster(kaniko_kubernetes, on_the_cluster)
    with config.new_client_from_config(str(kaniko_kubernetes.kubeconfig)) as api:
        ensure_namespace(api, on_the_cluster.k8s_match_namespace)
        play_the_platform(on_the_cluster, api, RANDOM_AGENT, (alice, bob), seconds=180)
