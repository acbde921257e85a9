"""A fake Kubernetes API server for the tests, faithful where the platform's code relies on it.

No API server can be installed on these machines, so the Kubernetes code is tested against
this. ``start_fake_kubernetes()`` serves the real API paths (JSON over HTTPS on a free port of
127.0.0.1, with a certificate authority of its own, or plain HTTP; a bearer token; it writes a
kubeconfig with both) from threads, with a Job controller, a
garbage collector, a TTL controller and one node, whose kubelet either plays what the test
planned (``ScriptedKubelet``, the default) or runs the containers on a Docker engine
(``docker_kubelet.DockerKubelet``).

What it does, as Kubernetes 1.31 does:
- ``/api/v1`` namespaces, pods (``/status``, ``/log``), secrets, configmaps, services,
  serviceaccounts, events; ``/apis/batch/v1`` jobs (``/status``); networking.k8s.io/v1
  networkpolicies; rbac.authorization.k8s.io/v1 roles and rolebindings; ``/version``, ``/api``,
  ``/apis`` and each group version's resource list (legacy discovery).
- One global resourceVersion, increased by every write; lists carry it; ``uid``,
  ``creationTimestamp``, ``generateName``, ``metadata.generation`` (spec changes, for Jobs and
  NetworkPolicies); 409 AlreadyExists and 409 Conflict (a stale resourceVersion on PUT or
  PATCH); 404 for a missing object or namespace; ``Status`` bodies; every object created or
  updated is validated strictly against the 1.31 schemas (``kubernetes-validate``) plus a few
  semantic checks (names, a Job's restartPolicy, container names, a Job's template and a
  pod's spec immutable but for images): 422 Invalid. A Secret's ``stringData`` is folded
  into ``data``.
- PUT; PATCH as merge patch, strategic merge patch (named lists merged by their key,
  ``$patch: delete|replace``) and JSON patch; the status subresource apart from the object.
- Label selectors (``=``, ``==``, ``!=``, ``in``, ``notin``, exists, ``!``) and field
  selectors (equality on any dotted path: ``metadata.name``, ``status.phase``...).
- Watch: from a resourceVersion only later events, without one the current objects as ADDED
  first; selections as the watch cache reports them (an object relabelled in is ADDED, out is
  DELETED); DELETED carries the final object; a compacted version is 410 Gone, as an ERROR
  event after a 200 (the API server's way) or (``Settings.gone_as = "http"``) as the status;
  ``allowWatchBookmarks``; ``timeoutSeconds``; a bounded history. Hooks: ``compact()``,
  ``expire_watches()`` (an ERROR 410 into every open stream), ``drop_watches()`` (the
  connections cut).
- DELETE with ``propagationPolicy``: Background and Foreground remove a Job's pods (Foreground
  first, the Job after); none on a batch/v1 Job orphans them (owner references removed), as the
  real API does. A running pod is killed, then removed; a namespace takes its objects with it.
- Jobs: pods ``<job>-<random>`` labelled ``batch.kubernetes.io/job-name``, ``job-name``,
  ``controller-uid`` and owned by the Job; ``backoffLimit`` with a doubling pause
  (``Settings.pod_backoff_seconds``); ``activeDeadlineSeconds`` kills the pods
  (DeadlineExceeded); ``FailureTarget``/``SuccessCriteriaMet`` first, ``Failed``/``Complete``
  once no pod runs; ``ttlSecondsAfterFinished``; ``status.active/ready/terminating/succeeded/
  failed``, ``startTime``, ``completionTime``.
- Pods: Pending (ContainerCreating, ErrImagePull, ImagePullBackOff) → Running →
  Succeeded/Failed, terminated states with exit code and reason (Completed, Error,
  OOMKilled), init containers first, conditions; ``/log`` with ``follow``, ``tailLines``,
  ``sinceSeconds``, ``timestamps``, ``container``, and 400 while the container waits.
- ``pods/{name}/attach``: a WebSocket in the channel protocol (v5 or v4) feeding the
  container's stdin (``stdin``, ``stdinOnce``: closed when the first session ends); see
  attach.py. The Docker kubelet hands it to the container; a ``kaniko.KanikoStandIn`` builds
  the pods of the builder image on the test engine and pushes to the test registry.

What it does not do (yet): client certificates, authorization (the token's holder may do
anything), pagination (``limit``/``continue``), ``resourceVersionMatch``, server-side apply,
dry run beyond creation, aggregated discovery and the OpenAPI documents (so ``kubectl apply``
needs ``--validate=false``), Pod Security admission, NetworkPolicy enforcement (pods simply
get no network), ``restartPolicy: OnFailure`` (containers are not restarted in place),
Indexed Jobs, pod failure and success policies, ``suspend`` of a running Job, finalizers other
than foreground deletion, graceful namespace termination, exec, attach's stdout and stderr,
Deployments, StatefulSets and every other type, more than one node, scheduling, evictions.
"""

from __future__ import annotations

import base64
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
from .tls import make_server_certificate

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

    def __init__(
        self, cluster: Cluster, server: Server, token: str, folder: Path, ca_pem: bytes | None
    ) -> None:
        self.cluster = cluster
        self.server = server
        self.token = token
        self.url = f"{'https' if ca_pem else 'http'}://{server.address}"
        self._folder = folder
        # The authority that signed the server's certificate (None over plain HTTP).
        self.ca_file: Path | None = None
        if ca_pem is not None:
            self.ca_file = folder / "ca.pem"
            self.ca_file.write_bytes(ca_pem)
        self.kubeconfig = folder / "kubeconfig"
        self.kubeconfig.write_text(json.dumps(self._kubeconfig(ca_pem)))
        self._thread = threading.Thread(
            target=server.serve_forever, kwargs={"poll_interval": 0.1}, daemon=True
        )

    def _kubeconfig(self, ca_pem: bytes | None) -> dict[str, Any]:
        cluster: dict[str, Any] = {"server": self.url}
        if ca_pem is not None:
            cluster["certificate-authority-data"] = base64.b64encode(ca_pem).decode()
        return {
            "apiVersion": "v1",
            "kind": "Config",
            "clusters": [{"name": "fake", "cluster": cluster}],
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
    kubelet: Kubelet | None = None, settings: Settings | None = None, *, tls: bool = True
) -> FakeKubernetes:
    """Start a fake on a free port of 127.0.0.1: HTTPS with a certificate authority of its
    own (in its kubeconfig), or plain HTTP with ``tls=False``. Go clients (kubectl, Helm)
    send their token over TLS only."""
    cluster = Cluster(kubelet, settings)
    token = secrets.token_urlsafe(16)
    folder = Path(tempfile.mkdtemp(prefix="kubefake-"))
    server = Server(cluster, token)
    ca_pem = None
    if tls:
        certificate = make_server_certificate()
        context = certificate.context(folder)
        server.socket = context.wrap_socket(
            server.socket, server_side=True, do_handshake_on_connect=False
        )
        ca_pem = certificate.ca_pem
    return FakeKubernetes(cluster, server, token, folder, ca_pem).start()
