"""The platform with both Kubernetes modes on a real cluster: the scenario the fake runs in
test_whole_platform.py, with real Kaniko, a real kubelet and a real registry.

Not run unless ``BOTARENA_TEST_KUBECONFIG`` names the cluster's kubeconfig (reported as
skipped, with that reason, otherwise: no cluster can be had where the suite usually runs).
It also reads ``BOTARENA_TEST_K8S_REGISTRY`` (where builds push, as the cluster's nodes reach
it), ``BOTARENA_TEST_K8S_REFEREE_IMAGE`` (the botarena image the nodes can pull), optionally
``BOTARENA_TEST_K8S_REGISTRY_INSECURE=true`` (a registry over plain HTTP) and
``BOTARENA_TEST_K8S_REGISTRY_USER`` / ``_PASSWORD``. Its namespaces are made for the run and
deleted after it. The recipe with kind is in docs/kubernetes.md.
"""

from __future__ import annotations

import os
import secrets
from collections.abc import Iterator
from pathlib import Path

import pytest
from kubernetes import client, config
from pydantic import SecretStr

from botarena.builds.kubernetes.manifests import build_namespace, match_namespace, registry_secret
from botarena.settings import Settings

from support.accounts import Account
from support.kube_platform import play_the_platform

pytestmark = pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)

EXAMPLES = Path(__file__).resolve().parents[3] / "examples" / "agents"
RANDOM_AGENT = (EXAMPLES / "connectx-random" / "main.py").read_bytes()
REQUIRED = ("BOTARENA_TEST_K8S_REGISTRY", "BOTARENA_TEST_K8S_REFEREE_IMAGE")


@pytest.fixture
def real_cluster() -> Iterator[tuple[Path, client.ApiClient]]:
    kubeconfig = os.environ.get("BOTARENA_TEST_KUBECONFIG")
    if not kubeconfig:
        pytest.skip("not run: BOTARENA_TEST_KUBECONFIG is not set (docs/kubernetes.md)")
    missing = [name for name in REQUIRED if not os.environ.get(name)]
    if missing:
        pytest.fail(f"BOTARENA_TEST_KUBECONFIG is set but not {', '.join(missing)}")
    with config.new_client_from_config(kubeconfig) as api:
        yield Path(kubeconfig), api


def test_submissions_are_built_validated_and_ranked_on_a_real_cluster(
    real_cluster: tuple[Path, client.ApiClient],
    settings: Settings,
    alice: Account,
    bob: Account,
) -> None:
    kubeconfig, api = real_cluster
    run = secrets.token_hex(3)
    registry = os.environ["BOTARENA_TEST_K8S_REGISTRY"]
    on_the_cluster = settings.model_copy(
        update={
            "build_backend": "kubernetes",
            "match_runner": "kubernetes",
            "k8s_kubeconfig": kubeconfig,
            "k8s_build_namespace": f"botarena-test-builds-{run}",
            "k8s_match_namespace": f"botarena-test-matches-{run}",
            "k8s_registry": registry,
            "k8s_registry_insecure": os.environ.get("BOTARENA_TEST_K8S_REGISTRY_INSECURE")
            == "true",
            "k8s_referee_image": os.environ["BOTARENA_TEST_K8S_REFEREE_IMAGE"],
            "builds_enabled": True,
            "matches_enabled": True,
            "ladder_enabled": True,
            "ladder_interval": 0.5,
        }
    )
    core = client.CoreV1Api(api)
    builds = on_the_cluster.k8s_build_namespace
    try:
        core.create_namespace(build_namespace(builds))
        core.create_namespaced_secret(
            builds,
            registry_secret(
                on_the_cluster.k8s_registry_secret,
                builds,
                registry.split("/")[0],
                os.environ.get("BOTARENA_TEST_K8S_REGISTRY_USER", "botarena"),
                SecretStr(os.environ.get("BOTARENA_TEST_K8S_REGISTRY_PASSWORD", "unused")),
            ),
        )
        core.create_namespace(match_namespace(on_the_cluster.k8s_match_namespace))
        play_the_platform(on_the_cluster, api, RANDOM_AGENT, (alice, bob), seconds=900)
    finally:
        for namespace in (builds, on_the_cluster.k8s_match_namespace):
            try:
                core.delete_namespace(namespace, propagation_policy="Background")
            except client.ApiException as exc:
                if exc.status != 404:
                    raise
