"""The Job controller with the scripted kubelet: pods, retries, deadlines, the 1.31
conditions, TTL, OOMKilled, ImagePullBackOff, and DELETE with and without propagation."""

from __future__ import annotations

import time

from kubernetes import client, watch

from .conftest import conditions, eventually, finished, job, pods_of
from support.kubefake import FakeKubernetes, Outcome, ScriptedKubelet


def kubelet(fake: FakeKubernetes) -> ScriptedKubelet:
    scripted = fake.kubelet
    assert isinstance(scripted, ScriptedKubelet)
    return scripted


def test_a_job_runs_a_pod_of_its_own_and_completes(
    fake_kubernetes: FakeKubernetes,
    core: client.CoreV1Api,
    batch: client.BatchV1Api,
    namespace: str,
) -> None:
    made = batch.create_namespaced_job(namespace, job("build-1"))
    done = eventually(lambda: finished(batch, namespace, "build-1"))
    assert conditions(done) == [
        ("SuccessCriteriaMet", "CompletionsReached"),
        ("Complete", "CompletionsReached"),
    ]
    assert (done.status.succeeded, done.status.failed, done.status.active) == (1, None, None)
    assert done.status.start_time is not None and done.status.completion_time is not None
    [pod] = pods_of(core, namespace, "build-1")
    assert pod.metadata.name.startswith("build-1-") and len(pod.metadata.name) == 13
    assert pod.metadata.labels["job-name"] == "build-1"
    assert pod.metadata.labels["controller-uid"] == made.metadata.uid
    [owner] = pod.metadata.owner_references
    assert (owner.kind, owner.name, owner.uid, owner.controller) == (
        "Job",
        "build-1",
        made.metadata.uid,
        True,
    )
    assert pod.status.phase == "Succeeded"
    ended = pod.status.container_statuses[0].state.terminated
    assert (ended.exit_code, ended.reason) == (0, "Completed")


def test_failed_pods_are_retried_up_to_the_backoff_limit(
    fake_kubernetes: FakeKubernetes,
    core: client.CoreV1Api,
    batch: client.BatchV1Api,
    namespace: str,
) -> None:
    kubelet(fake_kubernetes).plan("flaky", Outcome(exit_code=1), Outcome(exit_code=0))
    kubelet(fake_kubernetes).plan("broken", *[Outcome(exit_code=2)] * 3)
    batch.create_namespaced_job(namespace, job("flaky", backoff_limit=1))
    batch.create_namespaced_job(namespace, job("broken", backoff_limit=2))

    flaky = eventually(lambda: finished(batch, namespace, "flaky"))
    assert conditions(flaky)[-1] == ("Complete", "CompletionsReached")
    assert (flaky.status.failed, flaky.status.succeeded) == (1, 1)
    broken = eventually(lambda: finished(batch, namespace, "broken"))
    assert conditions(broken) == [
        ("FailureTarget", "BackoffLimitExceeded"),
        ("Failed", "BackoffLimitExceeded"),
    ]
    assert broken.status.failed == 3
    pods = pods_of(core, namespace, "broken")
    assert len(pods) == 3 and {p.status.phase for p in pods} == {"Failed"}
    codes = {p.status.container_statuses[0].state.terminated.exit_code for p in pods}
    assert codes == {2}


def test_the_deadline_kills_the_pod_and_fails_the_job_in_two_steps(
    fake_kubernetes: FakeKubernetes,
    core: client.CoreV1Api,
    batch: client.BatchV1Api,
    namespace: str,
) -> None:
    kubelet(fake_kubernetes).plan("slow", Outcome(hold=True))
    version = batch.list_namespaced_job(namespace).metadata.resource_version
    batch.create_namespaced_job(namespace, job("slow", deadline=1))
    seen: list[list[tuple[str, str | None]]] = []
    stream = watch.Watch()
    for event in stream.stream(
        batch.list_namespaced_job, namespace, resource_version=version, timeout_seconds=10
    ):
        if not seen or conditions(event["object"]) != seen[-1]:
            seen.append(conditions(event["object"]))
        if any(kind == "Failed" for kind, _ in seen[-1]):
            stream.stop()
    assert [("FailureTarget", "DeadlineExceeded")] in seen
    assert seen[-1] == [("FailureTarget", "DeadlineExceeded"), ("Failed", "DeadlineExceeded")]
    # The pod was killed and deleted.
    eventually(lambda: pods_of(core, namespace, "slow") == [])


def test_a_finished_job_is_deleted_after_its_ttl(
    core: client.CoreV1Api, batch: client.BatchV1Api, namespace: str
) -> None:
    batch.create_namespaced_job(namespace, job("short", ttl=0))
    eventually(lambda: pods_of(core, namespace, "short"))
    eventually(lambda: batch.list_namespaced_job(namespace).items == [])
    eventually(lambda: pods_of(core, namespace, "short") == [])


def test_an_oom_kill_and_a_missing_image_are_reported_as_the_kubelet_does(
    fake_kubernetes: FakeKubernetes,
    core: client.CoreV1Api,
    batch: client.BatchV1Api,
    namespace: str,
) -> None:
    kubelet(fake_kubernetes).plan("greedy", Outcome(exit_code=137, reason="OOMKilled"))
    kubelet(fake_kubernetes).plan("missing", Outcome(image_missing=True))
    batch.create_namespaced_job(namespace, job("greedy"))
    batch.create_namespaced_job(namespace, job("missing"))
    greedy = eventually(lambda: finished(batch, namespace, "greedy"))
    assert conditions(greedy)[-1] == ("Failed", "BackoffLimitExceeded")
    [pod] = pods_of(core, namespace, "greedy")
    ended = pod.status.container_statuses[0].state.terminated
    assert (pod.status.phase, ended.exit_code, ended.reason) == ("Failed", 137, "OOMKilled")

    def backing_off() -> client.V1Pod | None:
        pods = pods_of(core, namespace, "missing")
        state = pods[0].status.container_statuses if pods else None
        waiting = state[0].state.waiting if state else None
        return pods[0] if waiting and waiting.reason == "ImagePullBackOff" else None

    pod = eventually(backing_off)
    assert pod.status.phase == "Pending"


def test_a_delete_without_propagation_policy_leaves_the_pods_behind(
    core: client.CoreV1Api, batch: client.BatchV1Api, namespace: str
) -> None:
    batch.create_namespaced_job(namespace, job("left"))
    eventually(lambda: finished(batch, namespace, "left"))
    batch.delete_namespaced_job("left", namespace)
    assert batch.list_namespaced_job(namespace).items == []
    [pod] = pods_of(core, namespace, "left")
    assert pod.metadata.owner_references is None
    time.sleep(0.3)  # many passes of the garbage collector
    assert len(pods_of(core, namespace, "left")) == 1


def test_a_background_delete_removes_the_pods(
    fake_kubernetes: FakeKubernetes,
    core: client.CoreV1Api,
    batch: client.BatchV1Api,
    namespace: str,
) -> None:
    kubelet(fake_kubernetes).plan("running", Outcome(hold=True))
    batch.create_namespaced_job(namespace, job("running"))
    eventually(
        lambda: [p for p in pods_of(core, namespace, "running") if p.status.phase == "Running"]
    )
    batch.delete_namespaced_job("running", namespace, propagation_policy="Background")
    assert batch.list_namespaced_job(namespace).items == []
    eventually(lambda: pods_of(core, namespace, "running") == [])


def test_a_foreground_delete_removes_the_pods_before_the_job(
    fake_kubernetes: FakeKubernetes,
    core: client.CoreV1Api,
    batch: client.BatchV1Api,
    namespace: str,
) -> None:
    kubelet(fake_kubernetes).plan("held", Outcome(hold=True))
    batch.create_namespaced_job(namespace, job("held"))
    eventually(lambda: [p for p in pods_of(core, namespace, "held") if p.status.phase == "Running"])
    body = client.V1DeleteOptions(propagation_policy="Foreground")
    batch.delete_namespaced_job("held", namespace, body=body)
    marked = batch.list_namespaced_job(namespace).items
    assert marked == [] or marked[0].metadata.deletion_timestamp is not None
    eventually(lambda: batch.list_namespaced_job(namespace).items == [])
    assert pods_of(core, namespace, "held") == []
