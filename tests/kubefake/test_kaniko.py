"""The Kaniko stand-in: a pod of the builder image reads its context from stdin, builds on the
test engine, pushes to the test registry, reports the digest as its termination message and
logs as Kaniko does; a failing RUN step fails the pod with Kaniko's error."""

from __future__ import annotations

import gzip
import io
import tarfile

import httpx
from kubernetes import client, config
from kubernetes.stream import stream

from botarena.settings import Settings

from .conftest import eventually
from support.docker import Registry
from support.kubefake import FakeKubernetes

BUILDER = Settings.model_fields["k8s_builder_image"].default


def _context(files: dict[str, str]) -> bytes:
    raw = io.BytesIO()
    with tarfile.open(fileobj=raw, mode="w") as tar:
        for name, text in files.items():
            data = text.encode()
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
    return gzip.compress(raw.getvalue())


def _build(core: client.CoreV1Api, name: str, args: list[str], context: bytes) -> client.V1Pod:
    container = client.V1Container(
        name="kaniko",
        image=BUILDER,
        args=args,
        stdin=True,
        stdin_once=True,
        termination_message_path="/dev/termination-log",
        termination_message_policy="File",
    )
    spec = client.V1PodSpec(restart_policy="Never", containers=[container])
    core.create_namespaced_pod(
        "default", client.V1Pod(metadata=client.V1ObjectMeta(name=name), spec=spec)
    )

    def running() -> bool:
        statuses = core.read_namespaced_pod(name, "default").status.container_statuses or []
        return bool(statuses and statuses[0].state.running)

    eventually(running, 30)
    session = stream(
        core.connect_get_namespaced_pod_attach,
        name,
        "default",
        container="kaniko",
        stdin=True,
        stdout=False,
        stderr=False,
        tty=False,
        _preload_content=False,
        binary=True,
    )
    session.write_stdin(context)
    session.close()

    def ended() -> client.V1Pod | None:
        pod = core.read_namespaced_pod(name, "default")
        return pod if pod.status.phase in ("Succeeded", "Failed") else None

    return eventually(ended, 60)


def test_builds_the_context_from_stdin_and_pushes_it(
    kaniko_kubernetes: FakeKubernetes, python_image: str, registry: Registry
) -> None:
    destination = f"{registry.address}/kaniko-test:one"
    dockerfile = f"FROM {python_image}\nRUN echo hello-from-run\n"
    args = [
        "--context=tar://stdin",
        "--dockerfile=Dockerfile",
        f"--destination={destination}",
        "--cache=true",
        f"--cache-repo={registry.address}/cache",
        "--digest-file=/dev/termination-log",
    ]
    with config.new_client_from_config(str(kaniko_kubernetes.kubeconfig)) as api:
        core = client.CoreV1Api(api)
        pod = _build(core, "builder", args, _context({"Dockerfile": dockerfile}))
        ended = pod.status.container_statuses[0].state.terminated
        log = core.read_namespaced_pod_log("builder", "default")
    assert (pod.status.phase, ended.exit_code) == ("Succeeded", 0), log
    digest = ended.message
    assert digest.startswith("sha256:") and len(digest) == 71
    manifest = httpx.get(
        f"http://{registry.address}/v2/kaniko-test/manifests/one",
        headers={"Accept": "application/vnd.docker.distribution.manifest.v2+json"},
    )
    assert manifest.headers["Docker-Content-Digest"] == digest
    assert "Running: [/bin/sh -c echo hello-from-run]" in log
    assert "\nhello-from-run\n" in log
    assert f"Pushed {registry.address}/kaniko-test@{digest}" in log


def test_a_failing_run_step_fails_as_kaniko_does(
    kaniko_kubernetes: FakeKubernetes, python_image: str, registry: Registry
) -> None:
    dockerfile = f"FROM {python_image}\nRUN echo about to fail && exit 3\n"
    args = ["--context=tar://stdin", f"--destination={registry.address}/kaniko-test:bad"]
    with config.new_client_from_config(str(kaniko_kubernetes.kubeconfig)) as api:
        core = client.CoreV1Api(api)
        pod = _build(core, "failing", args, _context({"Dockerfile": dockerfile}))
        ended = pod.status.container_statuses[0].state.terminated
        log = core.read_namespaced_pod_log("failing", "default")
        missing = _build(core, "no-dockerfile", args, _context({"main.py": "print(1)"}))
        missing_log = core.read_namespaced_pod_log("no-dockerfile", "default")
    assert (pod.status.phase, ended.exit_code, ended.message) == ("Failed", 1, None)
    assert "about to fail" in log
    assert log.rstrip().endswith(
        "error building image: error building stage: failed to execute command: "
        "waiting for process to exit: exit status 3"
    )
    assert missing.status.phase == "Failed"
    assert "error resolving dockerfile path" in missing_log
