"""The fake Kubernetes API server as pytest fixtures (a plugin named in tests/conftest.py).

``fake_kubernetes`` is a fresh server per test (it starts in milliseconds, and a test that
compacts, drops watches or changes settings touches no other test); ``kubernetes_api`` is the
official client's ``ApiClient`` built from its kubeconfig; ``docker_kubernetes`` runs pods on
the run's Docker engine, ``kaniko_kubernetes`` too, with the Kaniko stand-in for build pods.
The fake and the client are imported when a test asks for them, so
the runs that use neither do not pay for their import (a second).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING

import pytest

if TYPE_CHECKING:
    from kubernetes import client

    from . import FakeKubernetes
    from support.docker import Engine


@pytest.fixture
def fake_kubernetes() -> Iterator[FakeKubernetes]:
    from . import start_fake_kubernetes

    fake = start_fake_kubernetes()
    yield fake
    fake.stop()


@pytest.fixture
def kubernetes_api(fake_kubernetes: FakeKubernetes) -> Iterator[client.ApiClient]:
    from kubernetes import config

    api = config.new_client_from_config(str(fake_kubernetes.kubeconfig))
    yield api
    api.close()


@pytest.fixture
def docker_kubernetes(docker_daemon: Engine) -> Iterator[FakeKubernetes]:
    """A fake whose kubelet runs the containers on the run's Docker engine."""
    from . import start_fake_kubernetes
    from .docker_kubelet import DockerKubelet

    engine = docker_daemon.client()
    fake = start_fake_kubernetes(DockerKubelet(engine))
    yield fake
    fake.stop()
    engine.close()


@pytest.fixture
def kaniko_kubernetes(docker_daemon: Engine) -> Iterator[FakeKubernetes]:
    """A fake whose kubelet runs containers on the run's Docker engine and builds the pods of
    the platform's default builder image with the Kaniko stand-in (RUN steps on the host's
    network, as the docker backend's tests build)."""
    from botarena.settings import Settings

    from . import start_fake_kubernetes
    from .docker_kubelet import DockerKubelet
    from .kaniko import KanikoStandIn

    builder = Settings.model_fields["k8s_builder_image"].default
    engine = docker_daemon.client()
    kubelet = DockerKubelet(engine, kaniko=KanikoStandIn(builder, network="host"))
    fake = start_fake_kubernetes(kubelet)
    yield fake
    fake.stop()
    engine.close()
