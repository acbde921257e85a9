"""A fake Kubernetes API server for the tests, faithful where the platform's code relies on it.

``start_fake_kubernetes()`` serves the real API paths (JSON only, plain HTTP on a free port of
127.0.0.1, a bearer token) from a thread, with a Job controller, a garbage collector, a TTL
controller and one node whose kubelet either plays what the test planned (``ScriptedKubelet``,
the default) or runs the containers on a Docker engine (``DockerKubelet``). It writes a
kubeconfig for itself, so the official client connects as it would to a cluster.

What it implements and what it does not: docs/testing.md ("The fake Kubernetes API server").
"""

from __future__ import annotations

import json
import secrets
import shutil
import tempfile
import threading
from pathlib import Path
from typing import Any

from .cluster import Cluster, Settings
from .http import Server
from .kubelet import Kubelet, Outcome, PodRun, ScriptedKubelet

__all__ = [
    "FakeKubernetes",
    "Kubelet",
    "Outcome",
    "PodRun",
    "ScriptedKubelet",
    "Settings",
    "start_fake_kubernetes",
]


class FakeKubernetes:
    """A running fake: its address, its kubeconfig, its cluster, and the tests' hooks."""

    def __init__(self, cluster: Cluster, server: Server, token: str) -> None:
        self.cluster = cluster
        self.server = server
        self.token = token
        self.url = f"http://{server.address}"
        self._folder = Path(tempfile.mkdtemp(prefix="kubefake-"))
        self.kubeconfig = self._folder / "kubeconfig"
        self.kubeconfig.write_text(json.dumps(self._kubeconfig()))
        self._thread = threading.Thread(
            target=server.serve_forever, kwargs={"poll_interval": 0.1}, daemon=True
        )

    def _kubeconfig(self) -> dict[str, Any]:
        return {
            "apiVersion": "v1",
            "kind": "Config",
            "clusters": [{"name": "fake", "cluster": {"server": self.url}}],
            "users": [{"name": "fake", "user": {"token": self.token}}],
            "contexts": [{"name": "fake", "context": {"cluster": "fake", "user": "fake"}}],
            "current-context": "fake",
        }

    @property
    def kubelet(self) -> Kubelet:
        return self.cluster.kubelet

    def compact(self) -> int:
        return self.cluster.compact()

    def drop_watches(self) -> None:
        self.cluster.drop_watches()

    def expire_watches(self) -> None:
        self.cluster.expire_watches()

    def start(self) -> FakeKubernetes:
        self.cluster.start()
        self._thread.start()
        return self

    def stop(self) -> None:
        self.cluster.stop()
        self.server.shutdown()
        self.server.server_close()
        self._thread.join(10)
        shutil.rmtree(self._folder, ignore_errors=True)

    def __enter__(self) -> FakeKubernetes:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.stop()


def start_fake_kubernetes(
    kubelet: Kubelet | None = None, settings: Settings | None = None
) -> FakeKubernetes:
    cluster = Cluster(kubelet, settings)
    token = secrets.token_urlsafe(16)
    return FakeKubernetes(cluster, Server(cluster, token), token).start()
