"""The calls the Kubernetes build backend makes: connecting, Jobs created and deleted, the
context streamed through ``pods/attach``, a pod's log followed.

Every Job deletion sends ``propagationPolicy: Background``: without it a batch/v1 Job's pods
are left behind (orphaned), as the API does for backward compatibility.
"""

from __future__ import annotations

import gzip
import io
import json
import tarfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

from kubernetes import client, config
from kubernetes.client.rest import ApiException
from kubernetes.stream import stream

from botarena.builds.kubernetes.manifests import (
    BUILDER_CONTAINER,
    CONTEXT_SENT_ANNOTATION,
    Manifest,
)

# The context goes to the builder in frames of this size.
_FRAME = 256 * 1024
NOT_FOUND, CONFLICT = 404, 409


def connect(kubeconfig: Path | None) -> client.ApiClient:
    """A client for the cluster of ``kubeconfig``, or of the pod's service account."""
    if kubeconfig is not None:
        return config.new_client_from_config(str(kubeconfig))
    configuration = client.Configuration()
    config.load_incluster_config(client_configuration=configuration)
    return client.ApiClient(configuration)


def context_archive(context: Path) -> bytes:
    """The build context as Kaniko's ``tar://stdin`` takes it: a gzipped tar, the folder's
    contents at its root (links kept as links)."""
    raw = io.BytesIO()
    with tarfile.open(fileobj=raw, mode="w") as tar:
        for path in sorted(context.iterdir()):
            tar.add(path, arcname=path.name)
    return gzip.compress(raw.getvalue(), compresslevel=6)


class BuildCluster:
    """The builds namespace, through one API client."""

    def __init__(self, api: client.ApiClient, namespace: str) -> None:
        self.api = api
        self.namespace = namespace
        self.core = client.CoreV1Api(api)
        self.batch = client.BatchV1Api(api)

    def version(self, timeout: float = 5.0) -> str:
        info = client.VersionApi(self.api).get_code(_request_timeout=timeout)
        return str(info.git_version)

    def create_job(self, manifest: Manifest) -> dict[str, Any]:
        response = self.batch.create_namespaced_job(
            self.namespace, manifest, _preload_content=False, _request_timeout=30
        )
        created: dict[str, Any] = json.loads(response.data)
        return created

    def read_job(self, name: str) -> dict[str, Any] | None:
        try:
            response = self.batch.read_namespaced_job(
                name, self.namespace, _preload_content=False, _request_timeout=30
            )
        except ApiException as exc:
            if exc.status == NOT_FOUND:
                return None
            raise
        found: dict[str, Any] = json.loads(response.data)
        return found

    def list_jobs(self, selector: str) -> list[dict[str, Any]]:
        response = self.batch.list_namespaced_job(
            self.namespace, label_selector=selector, _preload_content=False, _request_timeout=30
        )
        items: list[dict[str, Any]] = json.loads(response.data).get("items") or []
        return items

    def list_pods(self, job_name: str) -> list[dict[str, Any]]:
        response = self.core.list_namespaced_pod(
            self.namespace,
            label_selector=f"batch.kubernetes.io/job-name={job_name}",
            _preload_content=False,
            _request_timeout=30,
        )
        items: list[dict[str, Any]] = json.loads(response.data).get("items") or []
        return items

    def delete_job(self, name: str) -> bool:
        """Delete a Job and its pods (Background); False when it was already gone."""
        try:
            self.batch.delete_namespaced_job(
                name,
                self.namespace,
                body=client.V1DeleteOptions(propagation_policy="Background"),
                _request_timeout=30,
            )
        except ApiException as exc:
            if exc.status == NOT_FOUND:
                return False
            raise
        return True

    def mark_context_sent(self, name: str) -> None:
        """Annotate the Job: its builder has its whole context."""
        body = {"metadata": {"annotations": {CONTEXT_SENT_ANNOTATION: "true"}}}
        self.batch.patch_namespaced_job(name, self.namespace, body, _request_timeout=30)

    def send_context(self, pod: str, archive: bytes) -> None:
        """Attach to the builder's stdin, write the archive, and end the session: with
        ``stdinOnce`` the builder then reads end of file. Raises when the stream fails.

        On a client of its own: the official client's ``stream`` swaps the client's
        ``call_api`` while it connects, which would send other threads' calls over WebSocket.
        """
        with client.ApiClient(self.api.configuration) as own:
            self._attach_and_send(client.CoreV1Api(own), pod, archive)

    def _attach_and_send(self, core: client.CoreV1Api, pod: str, archive: bytes) -> None:
        session = stream(
            core.connect_get_namespaced_pod_attach,
            pod,
            self.namespace,
            container=BUILDER_CONTAINER,
            stdin=True,
            stdout=False,
            stderr=False,
            tty=False,
            _preload_content=False,
            binary=True,
        )
        try:
            for start in range(0, len(archive), _FRAME):
                session.write_stdin(archive[start : start + _FRAME])
            session.close_channel(0)  # v5 only: stdin ends before the session does
        finally:
            session.close()

    def follow_log(self, pod: str, line: Callable[[str], None], read_timeout: float) -> None:
        """Each line of the builder's log, from its start, until the container ends (or
        nothing came for ``read_timeout`` seconds)."""
        response = self.core.read_namespaced_pod_log(
            pod,
            self.namespace,
            container=BUILDER_CONTAINER,
            follow=True,
            _preload_content=False,
            _request_timeout=(10, read_timeout),
        )
        try:
            buffer = b""
            for chunk in response.stream(amt=None, decode_content=False):
                buffer += chunk
                *lines, buffer = buffer.split(b"\n")
                for text in lines:
                    line(text.decode(errors="replace"))
            if buffer:
                line(buffer.decode(errors="replace"))
        finally:
            response.release_conn()
