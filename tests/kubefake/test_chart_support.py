"""What the fake serves for Helm's sake, through the official client: workload types stored
and validated, custom resources as if their CRDs were installed, per-group versions in
discovery, the OpenAPI v3 index, and 1.31's refusal of ``sendInitialEvents``."""

from __future__ import annotations

import ssl
from typing import Any

import httpx
from kubernetes import client

from support.kubefake import FakeKubernetes


def request(
    fake: FakeKubernetes, method: str, path: str, body: object = None, **params: str
) -> tuple[int, Any]:
    """A raw request: the official client refuses objects its models reject, and has no call
    for the OpenAPI documents."""
    answer = httpx.request(
        method,
        fake.url + path,
        json=body,
        params=params,
        headers={"Authorization": f"Bearer {fake.token}"},
        verify=ssl.create_default_context(cafile=fake.ca_file),
    )
    return answer.status_code, answer.json()


def deployment(name: str, **extra: object) -> dict[str, Any]:
    labels = {"app": name}
    container = {"name": "web", "image": "nginx:1.27", **extra}
    return {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": name},
        "spec": {
            "selector": {"matchLabels": labels},
            "template": {"metadata": {"labels": labels}, "spec": {"containers": [container]}},
        },
    }


def test_workloads_are_stored_and_validated(
    kubernetes_api: client.ApiClient, fake_kubernetes: FakeKubernetes, namespace: str
) -> None:
    apps = client.AppsV1Api(kubernetes_api)
    made = apps.create_namespaced_deployment(namespace, deployment("web"))
    assert made.metadata.generation == 1 and made.metadata.uid
    assert apps.read_namespaced_deployment("web", namespace).spec.template.spec.containers[0].image
    path = f"/apis/apps/v1/namespaces/{namespace}/deployments"
    status, body = request(fake_kubernetes, "POST", path, deployment("bad", imagePolicy="x"))
    assert (status, body["reason"]) == (422, "Invalid")
    scaler = {
        "apiVersion": "autoscaling/v2",
        "kind": "HorizontalPodAutoscaler",
        "metadata": {"name": "web"},
        "spec": {
            "scaleTargetRef": {"apiVersion": "apps/v1", "kind": "Deployment", "name": "web"},
            "minReplicas": 1,
            "maxReplicas": 3,
        },
    }
    client.AutoscalingV2Api(kubernetes_api).create_namespaced_horizontal_pod_autoscaler(
        namespace, scaler
    )


def test_custom_resources_are_kept_as_given(
    kubernetes_api: client.ApiClient, namespace: str
) -> None:
    custom = client.CustomObjectsApi(kubernetes_api)
    scaled = {
        "apiVersion": "keda.sh/v1alpha1",
        "kind": "ScaledObject",
        "metadata": {"name": "web"},
        "spec": {"scaleTargetRef": {"name": "web"}, "triggers": []},
    }
    custom.create_namespaced_custom_object(
        "keda.sh", "v1alpha1", namespace, "scaledobjects", scaled
    )
    read = custom.get_namespaced_custom_object(
        "keda.sh", "v1alpha1", namespace, "scaledobjects", "web"
    )
    assert read["spec"] == scaled["spec"]


def test_discovery_lists_each_groups_own_versions(kubernetes_api: client.ApiClient) -> None:
    groups = {g.name: g for g in client.ApisApi(kubernetes_api).get_api_versions().groups}
    assert [v.version for v in groups["autoscaling"].versions] == ["v2"]
    assert groups["keda.sh"].preferred_version.group_version == "keda.sh/v1alpha1"
    resources = client.AppsV1Api(kubernetes_api).get_api_resources().resources
    assert {"deployments", "statefulsets"} <= {r.name for r in resources}


def test_openapi_v3_says_the_server_validates_fields(fake_kubernetes: FakeKubernetes) -> None:
    status, index = request(fake_kubernetes, "GET", "/openapi/v3")
    assert status == 200
    assert index["paths"]["apis/apps/v1"] == {"serverRelativeURL": "/openapi/v3/apis/apps/v1"}
    assert "api/v1" in index["paths"]
    _, document = request(fake_kubernetes, "GET", "/openapi/v3/apis/apps/v1")
    item = document["paths"]["/apis/apps/v1/namespaces/{namespace}/deployments/{name}"]
    patch = item["patch"]
    assert "fieldValidation" in {p["name"] for p in patch["parameters"] if p["in"] == "query"}
    assert patch["x-kubernetes-group-version-kind"] == {
        "group": "apps",
        "version": "v1",
        "kind": "Deployment",
    }
    assert request(fake_kubernetes, "GET", "/openapi/v3/apis/nothing/v1")[0] == 404


def test_a_streaming_list_is_refused_as_by_1_31(
    fake_kubernetes: FakeKubernetes, namespace: str
) -> None:
    path = f"/apis/batch/v1/namespaces/{namespace}/jobs"
    status, body = request(fake_kubernetes, "GET", path, watch="true", sendInitialEvents="true")
    assert (status, body["reason"]) == (422, "Invalid")
    assert body["details"]["kind"] == "ListOptions"
    assert body["details"]["causes"][0]["field"] == "sendInitialEvents"
