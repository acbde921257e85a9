"""The Kubernetes build backend in tests: settings pointing at a fake API server, the builds
namespace and the registry Secret made there, and a build run through the real pipeline."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from kubernetes import client, config
from pydantic import SecretStr

from botarena.builds.backends.kubernetes import KubernetesBackend
from botarena.builds.kubernetes.manifests import build_namespace, registry_secret
from botarena.builds.pipeline import BuildPipeline
from botarena.builds.queue import BuildQueue
from botarena.db.engine import SessionFactory
from botarena.settings import Settings

from support.kubefake import FakeKubernetes

WORKER = "kube-worker"


def kube_settings(settings: Settings, fake: FakeKubernetes, **overrides: Any) -> Settings:
    """``settings`` with the kubernetes backend on ``fake`` (a registry is required)."""
    values: dict[str, Any] = {
        "build_backend": "kubernetes",
        "k8s_kubeconfig": Path(fake.kubeconfig),
        **overrides,
    }
    return settings.model_copy(update=values)


def prepare_cluster(fake: FakeKubernetes, settings: Settings) -> None:
    """The builds namespace and the registry Secret, as an operator (or the chart) makes them."""
    with config.new_client_from_config(str(fake.kubeconfig)) as api:
        core = client.CoreV1Api(api)
        core.create_namespace(build_namespace(settings.k8s_build_namespace))
        host = (settings.k8s_registry or "").split("/")[0]
        secret = registry_secret(
            settings.k8s_registry_secret,
            settings.k8s_build_namespace,
            host,
            "pusher",
            SecretStr("not-checked"),
        )
        core.create_namespaced_secret(settings.k8s_build_namespace, secret)


def claim_and_build(
    factory: SessionFactory, settings: Settings, backend: KubernetesBackend, sub: str
) -> None:
    with factory() as session:
        claimed = BuildQueue(session).claim_next(WORKER, backend.name, 60)
        session.commit()
        assert claimed is not None and claimed.id == sub
    BuildPipeline(factory, settings, backend, worker=WORKER).run(sub)
