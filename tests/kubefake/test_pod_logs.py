"""``pods/log`` through the client: followed to the end, the last lines, the container named,
and 400 while the container waits to start."""

from __future__ import annotations

import json

import pytest
from kubernetes import client
from kubernetes.client.exceptions import ApiException

from .conftest import eventually
from support.kubefake import FakeKubernetes, Outcome, ScriptedKubelet


def pod(name: str, *containers: str) -> client.V1Pod:
    return client.V1Pod(
        metadata=client.V1ObjectMeta(name=name),
        spec=client.V1PodSpec(
            restart_policy="Never",
            containers=[client.V1Container(name=c, image="agent:1") for c in containers],
        ),
    )


def phase(core: client.CoreV1Api, namespace: str, name: str) -> str:
    return str(core.read_namespaced_pod(name, namespace).status.phase)


@pytest.fixture
def scripted(fake_kubernetes: FakeKubernetes) -> ScriptedKubelet:
    kubelet = fake_kubernetes.kubelet
    assert isinstance(kubelet, ScriptedKubelet)
    return kubelet


def test_follow_streams_the_log_until_the_container_ends(
    scripted: ScriptedKubelet, core: client.CoreV1Api, namespace: str
) -> None:
    scripted.line_interval = 0.1
    scripted.plan("talker", Outcome(logs="one\ntwo\nthree\n"))
    core.create_namespaced_pod(namespace, pod("talker", "main"))
    eventually(lambda: phase(core, namespace, "talker") == "Running")
    stream = core.read_namespaced_pod_log("talker", namespace, follow=True, _preload_content=False)
    lines = [line.decode() for line in stream.stream()]
    assert "".join(lines) == "one\ntwo\nthree\n"
    assert phase(core, namespace, "talker") == "Succeeded"
    last = core.read_namespaced_pod_log("talker", namespace, tail_lines=1)
    assert last == "three\n"


def test_a_waiting_container_has_no_log_yet(
    scripted: ScriptedKubelet, core: client.CoreV1Api, namespace: str
) -> None:
    scripted.plan("pulling", Outcome(image_missing=True))
    core.create_namespaced_pod(namespace, pod("pulling", "main"))

    def waiting() -> str | None:
        statuses = core.read_namespaced_pod("pulling", namespace).status.container_statuses
        state = statuses[0].state.waiting if statuses else None
        return state.reason if state and state.reason == "ImagePullBackOff" else None

    eventually(waiting)
    with pytest.raises(ApiException) as raised:
        core.read_namespaced_pod_log("pulling", namespace)
    assert raised.value.status == 400
    assert json.loads(raised.value.body)["message"] == (
        'container "main" in pod "pulling" is waiting to start: ImagePullBackOff'
    )


def test_a_pod_of_several_containers_needs_the_container_named(
    scripted: ScriptedKubelet, core: client.CoreV1Api, namespace: str
) -> None:
    referee = Outcome(logs="start\n", message='{"winner": 0}')
    scripted.plan("match", Outcome(logs="move\n", containers={"referee": referee}))
    core.create_namespaced_pod(namespace, pod("match", "referee", "agent"))
    eventually(lambda: phase(core, namespace, "match") == "Succeeded")
    with pytest.raises(ApiException) as raised:
        core.read_namespaced_pod_log("match", namespace)
    assert raised.value.status == 400
    assert "choose one of: [referee agent]" in json.loads(raised.value.body)["message"]
    assert core.read_namespaced_pod_log("match", namespace, container="agent") == "move\n"
    assert core.read_namespaced_pod_log("match", namespace, container="referee") == "start\n"
    statuses = core.read_namespaced_pod("match", namespace).status.container_statuses
    assert statuses[0].state.terminated.message == '{"winner": 0}'
    assert statuses[1].state.terminated.message is None


def test_deleting_a_running_pod_kills_it_then_removes_it(
    scripted: ScriptedKubelet, core: client.CoreV1Api, namespace: str
) -> None:
    scripted.plan("held", Outcome(hold=True))
    core.create_namespaced_pod(namespace, pod("held", "main"))
    eventually(lambda: phase(core, namespace, "held") == "Running")
    core.delete_namespaced_pod("held", namespace)
    eventually(lambda: core.list_namespaced_pod(namespace).items == [])


def test_timestamps_since_seconds_and_previous(
    scripted: ScriptedKubelet, core: client.CoreV1Api, namespace: str
) -> None:
    scripted.plan("said", Outcome(logs="a\nb\n"))
    core.create_namespaced_pod(namespace, pod("said", "main"))
    eventually(lambda: phase(core, namespace, "said") == "Succeeded")
    stamped = core.read_namespaced_pod_log("said", namespace, timestamps=True).splitlines()
    assert [line.split(" ", 1)[1] for line in stamped] == ["a", "b"]
    assert all(line.split(" ", 1)[0].endswith("Z") for line in stamped)
    assert core.read_namespaced_pod_log("said", namespace, since_seconds=60) == "a\nb\n"
    with pytest.raises(ApiException) as raised:
        core.read_namespaced_pod_log("said", namespace, previous=True)
    assert raised.value.status == 400
