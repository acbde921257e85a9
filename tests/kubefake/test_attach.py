"""``pods/{name}/attach`` through the official client's ``stream``: what the client writes on
stdin reaches the container, stdinOnce closes it when the first session ends, and what the
API server refuses is refused."""

from __future__ import annotations

import pytest
from kubernetes import client, config
from kubernetes.client.rest import ApiException
from kubernetes.stream import stream

from .conftest import eventually
from support.kubefake import FakeKubernetes, Outcome, ScriptedKubelet


def _pod(
    name: str, image: str, *, stdin: bool = True, command: list[str] | None = None
) -> client.V1Pod:
    container = client.V1Container(
        name="main", image=image, command=command, stdin=stdin, stdin_once=stdin
    )
    spec = client.V1PodSpec(restart_policy="Never", containers=[container])
    return client.V1Pod(metadata=client.V1ObjectMeta(name=name), spec=spec)


def _running(core: client.CoreV1Api, name: str) -> bool:
    statuses = core.read_namespaced_pod(name, "default").status.container_statuses or []
    return bool(statuses and statuses[0].state.running)


def _attach(core: client.CoreV1Api, name: str, data: bytes) -> None:
    session = stream(
        core.connect_get_namespaced_pod_attach,
        name,
        "default",
        container="main",
        stdin=True,
        stdout=False,
        stderr=False,
        tty=False,
        _preload_content=False,
        binary=True,
    )
    for start in range(0, len(data), 65536):
        session.write_stdin(data[start : start + 65536])
    session.close()


def test_stdin_reaches_the_pod_and_closes_when_the_session_ends(
    fake_kubernetes: FakeKubernetes, core: client.CoreV1Api
) -> None:
    kubelet = fake_kubernetes.kubelet
    assert isinstance(kubelet, ScriptedKubelet)
    kubelet.plan("reader", Outcome(reads_stdin=True, logs="read it\n"))
    core.create_namespaced_pod("default", _pod("reader", "registry.example/reader:1"))
    eventually(lambda: _running(core, "reader"))
    payload = bytes(range(256)) * 1000  # binary, and more than one frame
    _attach(core, "reader", payload)

    eventually(lambda: core.read_namespaced_pod("reader", "default").status.phase == "Succeeded")
    assert kubelet.stdin_received["reader"] == payload
    # stdinOnce: a second session gets in but gives the container nothing more.
    with pytest.raises(ApiException) as refused:
        _attach(core, "reader", b"more")
    assert "terminated" in str(refused.value)


def test_what_attach_refuses(fake_kubernetes: FakeKubernetes, core: client.CoreV1Api) -> None:
    kubelet = fake_kubernetes.kubelet
    assert isinstance(kubelet, ScriptedKubelet)
    kubelet.plan("slow", Outcome(pending=30))
    kubelet.plan("closed", Outcome(hold=True))
    core.create_namespaced_pod("default", _pod("slow", "registry.example/a:1"))
    core.create_namespaced_pod("default", _pod("closed", "registry.example/a:1", stdin=False))
    with pytest.raises(ApiException) as missing:
        _attach(core, "nobody", b"x")
    assert "404" in str(missing.value)
    with pytest.raises(ApiException) as waiting:
        _attach(core, "slow", b"x")
    assert "waiting to start" in str(waiting.value)
    eventually(lambda: _running(core, "closed"))
    with pytest.raises(ApiException) as no_stdin:
        _attach(core, "closed", b"x")
    assert "stdin" in str(no_stdin.value)
    kubelet.release(core.read_namespaced_pod("closed", "default").metadata.name)


def test_a_real_container_reads_its_stdin_to_the_end(
    docker_kubernetes: FakeKubernetes, python_image: str
) -> None:
    code = "import sys; data = sys.stdin.buffer.read(); print(len(data), data[:5])"
    with config.new_client_from_config(str(docker_kubernetes.kubeconfig)) as api:
        core = client.CoreV1Api(api)
        core.create_namespaced_pod(
            "default", _pod("cat", python_image, command=["python3", "-c", code])
        )
        eventually(lambda: _running(core, "cat"), 60)
        _attach(core, "cat", b"hello" * 50_000)
        eventually(
            lambda: core.read_namespaced_pod("cat", "default").status.phase == "Succeeded", 30
        )
        log = core.read_namespaced_pod_log("cat", "default")
        assert log.strip() == "250000 b'hello'"
