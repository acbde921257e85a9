"""The official client's APIs on a fresh fake, a namespace for the test, and a Job to run."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any, TypeVar

import pytest
from kubernetes import client

T = TypeVar("T")


@pytest.fixture
def core(kubernetes_api: client.ApiClient) -> client.CoreV1Api:
    return client.CoreV1Api(kubernetes_api)


@pytest.fixture
def batch(kubernetes_api: client.ApiClient) -> client.BatchV1Api:
    return client.BatchV1Api(kubernetes_api)


@pytest.fixture
def namespace(core: client.CoreV1Api) -> str:
    core.create_namespace(client.V1Namespace(metadata=client.V1ObjectMeta(name="team")))
    return "team"


def eventually(probe: Callable[[], T | None], seconds: float = 10) -> T:
    """Poll ``probe`` until it returns something truthy; fail after ``seconds``."""
    deadline = time.monotonic() + seconds
    while True:
        value = probe()
        if value:
            return value
        if time.monotonic() > deadline:
            pytest.fail(f"not true after {seconds} s: {probe}")
        time.sleep(0.02)


def job(
    name: str,
    *,
    backoff_limit: int = 0,
    deadline: int | None = None,
    ttl: int | None = None,
    image: str = "registry.example/agent:1",
    command: list[str] | None = None,
    **pod: Any,
) -> client.V1Job:
    container = client.V1Container(name="main", image=image, command=command)
    return client.V1Job(
        metadata=client.V1ObjectMeta(name=name),
        spec=client.V1JobSpec(
            backoff_limit=backoff_limit,
            active_deadline_seconds=deadline,
            ttl_seconds_after_finished=ttl,
            template=client.V1PodTemplateSpec(
                spec=client.V1PodSpec(restart_policy="Never", containers=[container], **pod)
            ),
        ),
    )


def conditions(found: client.V1Job) -> list[tuple[str, str | None]]:
    return [(c.type, c.reason) for c in (found.status.conditions or [])]


def finished(batch: client.BatchV1Api, namespace: str, name: str) -> client.V1Job | None:
    """The Job once it has its last condition (Complete or Failed), else None."""
    found = batch.read_namespaced_job(name, namespace)
    kinds = {kind for kind, _reason in conditions(found)}
    return found if kinds & {"Complete", "Failed"} else None


def pods_of(core: client.CoreV1Api, namespace: str, job_name: str) -> list[client.V1Pod]:
    selector = f"batch.kubernetes.io/job-name={job_name}"
    return list(core.list_namespaced_pod(namespace, label_selector=selector).items)
