"""The API's object semantics, driven by the official client: resourceVersion, uid,
generation, 409s, generateName, selectors, PATCH and PUT, status bodies, validation."""

from __future__ import annotations

import json
import ssl
from typing import Any

import httpx
import pytest
from kubernetes import client
from kubernetes.client.exceptions import ApiException

from support.kubefake import FakeKubernetes


def config_map(name: str, **labels: str) -> client.V1ConfigMap:
    return client.V1ConfigMap(
        metadata=client.V1ObjectMeta(name=name, labels=labels or None), data={"k": "v"}
    )


def test_discovery_answers_what_the_client_asks(kubernetes_api: client.ApiClient) -> None:
    assert client.VersionApi(kubernetes_api).get_code().minor == "31"
    groups = {g.name for g in client.ApisApi(kubernetes_api).get_api_versions().groups}
    assert {"batch", "networking.k8s.io", "rbac.authorization.k8s.io"} <= groups
    resources = client.BatchV1Api(kubernetes_api).get_api_resources().resources
    assert {"jobs", "jobs/status"} <= {r.name for r in resources}
    core = {r.name for r in client.CoreV1Api(kubernetes_api).get_api_resources().resources}
    assert {"pods", "pods/log", "pods/status", "secrets", "configmaps"} <= core


def test_every_write_takes_the_next_global_resource_version(
    core: client.CoreV1Api, namespace: str
) -> None:
    first = core.create_namespaced_config_map(namespace, config_map("a"))
    second = core.create_namespaced_secret(
        namespace, client.V1Secret(metadata=client.V1ObjectMeta(name="s"), string_data={"x": "y"})
    )
    listed = core.list_namespaced_config_map(namespace)
    assert int(second.metadata.resource_version) == int(first.metadata.resource_version) + 1
    assert int(listed.metadata.resource_version) >= int(second.metadata.resource_version)
    assert first.metadata.uid and first.metadata.uid != second.metadata.uid
    assert first.metadata.creation_timestamp is not None


def test_a_duplicate_name_is_409_already_exists(core: client.CoreV1Api, namespace: str) -> None:
    core.create_namespaced_config_map(namespace, config_map("a"))
    with pytest.raises(ApiException) as raised:
        core.create_namespaced_config_map(namespace, config_map("a"))
    assert raised.value.status == 409
    body = json.loads(raised.value.body)
    assert (body["kind"], body["reason"], body["code"]) == ("Status", "AlreadyExists", 409)
    assert body["message"] == 'configmaps "a" already exists'


def test_a_stale_update_is_409_conflict(core: client.CoreV1Api, namespace: str) -> None:
    old = core.create_namespaced_config_map(namespace, config_map("a"))
    core.patch_namespaced_config_map("a", namespace, {"data": {"k": "newer"}})
    old.data = {"k": "stale"}
    with pytest.raises(ApiException) as raised:
        core.replace_namespaced_config_map("a", namespace, old)
    assert raised.value.status == 409
    assert json.loads(raised.value.body)["reason"] == "Conflict"
    assert core.read_namespaced_config_map("a", namespace).data == {"k": "newer"}


def test_a_missing_object_or_namespace_is_404(core: client.CoreV1Api, namespace: str) -> None:
    with pytest.raises(ApiException) as raised:
        core.read_namespaced_config_map("nothing", namespace)
    assert raised.value.status == 404
    assert json.loads(raised.value.body)["reason"] == "NotFound"
    with pytest.raises(ApiException) as raised:
        core.create_namespaced_config_map("elsewhere", config_map("a"))
    assert json.loads(raised.value.body)["message"] == 'namespaces "elsewhere" not found'


def test_generate_name_gives_a_fresh_name(core: client.CoreV1Api, namespace: str) -> None:
    made = client.V1ConfigMap(metadata=client.V1ObjectMeta(generate_name="build-"))
    names = {core.create_namespaced_config_map(namespace, made).metadata.name for _ in range(3)}
    assert len(names) == 3
    assert all(name.startswith("build-") and len(name) == 11 for name in names)


def test_label_and_field_selectors_filter_lists(core: client.CoreV1Api, namespace: str) -> None:
    core.create_namespaced_config_map(namespace, config_map("a", app="build", tier="x"))
    core.create_namespaced_config_map(namespace, config_map("b", app="match"))
    core.create_namespaced_config_map(namespace, config_map("c"))

    def names(**query: str) -> list[str]:
        return [i.metadata.name for i in core.list_namespaced_config_map(namespace, **query).items]

    assert names(label_selector="app=build") == ["a"]
    assert names(label_selector="app!=build") == ["b", "c"]
    assert names(label_selector="app in (build,match)") == ["a", "b"]
    assert names(label_selector="app notin (build)") == ["b", "c"]
    assert names(label_selector="app") == ["a", "b"]
    assert names(label_selector="!app") == ["c"]
    assert names(label_selector="app=build,tier=y") == []
    assert names(field_selector="metadata.name=b") == ["b"]
    assert names(field_selector="metadata.name!=b") == ["a", "c"]


def test_patch_merges_and_counts_generation_on_spec_changes_only(
    batch: client.BatchV1Api, namespace: str
) -> None:
    from .conftest import job

    made = batch.create_namespaced_job(namespace, job("j", backoff_limit=1))
    assert made.metadata.generation == 1
    labelled = batch.patch_namespaced_job("j", namespace, {"metadata": {"labels": {"a": "b"}}})
    assert labelled.metadata.generation == 1
    assert labelled.metadata.labels["a"] == "b"
    suspended = batch.patch_namespaced_job("j", namespace, {"spec": {"suspend": True}})
    assert suspended.metadata.generation == 2
    assert suspended.spec.backoff_limit == 1
    assert suspended.spec.template.spec.containers[0].image == "registry.example/agent:1"


def test_the_api_fills_a_jobs_selector_and_pod_labels(
    batch: client.BatchV1Api, namespace: str
) -> None:
    from .conftest import job

    made = batch.create_namespaced_job(namespace, job("j"))
    uid = made.metadata.uid
    assert made.spec.selector.match_labels == {"batch.kubernetes.io/controller-uid": uid}
    labels = made.spec.template.metadata.labels
    assert labels["batch.kubernetes.io/job-name"] == labels["job-name"] == "j"
    assert labels["controller-uid"] == uid


def test_status_is_written_through_its_subresource_only(
    core: client.CoreV1Api, namespace: str
) -> None:
    pod = client.V1Pod(
        metadata=client.V1ObjectMeta(name="p"),
        spec=client.V1PodSpec(
            restart_policy="Never",
            containers=[client.V1Container(name="c", image="x:1")],
            node_name="elsewhere",  # not the fake's node: nothing runs it
        ),
    )
    core.create_namespaced_pod(namespace, pod)
    core.patch_namespaced_pod("p", namespace, {"status": {"message": "ignored"}})
    assert core.read_namespaced_pod("p", namespace).status.message is None
    core.patch_namespaced_pod_status("p", namespace, {"status": {"message": "kept"}})
    assert core.read_namespaced_pod("p", namespace).status.message == "kept"


def _post(fake: FakeKubernetes, path: str, body: dict[str, Any]) -> tuple[int, dict[str, Any]]:
    """A raw POST: the official client refuses to send an object its own models reject."""
    trust = ssl.create_default_context(cafile=fake.ca_file)
    answer = httpx.post(
        fake.url + path,
        json=body,
        headers={"Authorization": f"Bearer {fake.token}"},
        verify=trust,
    )
    return answer.status_code, answer.json()


def test_an_invalid_object_is_422_with_the_schemas_message(
    fake_kubernetes: FakeKubernetes, namespace: str
) -> None:
    container: dict[str, Any] = {"name": "c", "image": "x:1", "bogus": True}
    pod_spec: dict[str, Any] = {"restartPolicy": "Never", "containers": [container]}
    body = {"metadata": {"name": "j"}, "spec": {"template": {"spec": pod_spec}}}
    path = f"/apis/batch/v1/namespaces/{namespace}/jobs"
    code, status = _post(fake_kubernetes, path, body)
    assert (code, status["kind"], status["reason"]) == (422, "Status", "Invalid")
    assert "'bogus' was unexpected" in status["message"]
    assert status["details"]["causes"][0]["field"] == "spec.template.spec.containers[0]"

    del container["bogus"]
    pod_spec["restartPolicy"] = "Always"
    code, status = _post(fake_kubernetes, path, body)
    assert code == 422
    assert "spec.template.spec.restartPolicy" in status["message"]

    pod_spec["restartPolicy"] = "Never"
    assert _post(fake_kubernetes, path, body)[0] == 201


def test_the_other_groups_serve_their_objects(
    kubernetes_api: client.ApiClient, namespace: str
) -> None:
    networking = client.NetworkingV1Api(kubernetes_api)
    deny = client.V1NetworkPolicy(
        metadata=client.V1ObjectMeta(name="deny"),
        spec=client.V1NetworkPolicySpec(
            pod_selector=client.V1LabelSelector(), policy_types=["Ingress", "Egress"]
        ),
    )
    networking.create_namespaced_network_policy(namespace, deny)
    assert networking.read_namespaced_network_policy("deny", namespace).spec.policy_types == [
        "Ingress",
        "Egress",
    ]
    rbac = client.RbacAuthorizationV1Api(kubernetes_api)
    rule = client.V1PolicyRule(api_groups=["batch"], resources=["jobs"], verbs=["create"])
    rbac.create_namespaced_role(
        namespace, client.V1Role(metadata=client.V1ObjectMeta(name="r"), rules=[rule])
    )
    assert [r.metadata.name for r in rbac.list_namespaced_role(namespace).items] == ["r"]


def test_a_wrong_token_is_401(fake_kubernetes: FakeKubernetes) -> None:
    configuration = client.Configuration(host=fake_kubernetes.url)
    configuration.ssl_ca_cert = str(fake_kubernetes.ca_file)
    configuration.api_key = {"authorization": "Bearer wrong"}
    with client.ApiClient(configuration) as api, pytest.raises(ApiException) as raised:
        client.CoreV1Api(api).list_namespace()
    assert raised.value.status == 401


def test_secrets_fold_string_data_into_data(core: client.CoreV1Api, namespace: str) -> None:
    secret = client.V1Secret(
        metadata=client.V1ObjectMeta(name="registry"),
        type="kubernetes.io/dockerconfigjson",
        string_data={".dockerconfigjson": "{}"},
    )
    made = core.create_namespaced_secret(namespace, secret)
    assert made.data == {".dockerconfigjson": "e30="}
    assert made.string_data is None
    assert core.read_namespaced_secret("registry", namespace).type == (
        "kubernetes.io/dockerconfigjson"
    )


def test_a_json_patch_and_a_strategic_merge_of_a_named_list(
    core: client.CoreV1Api, namespace: str
) -> None:
    core.create_namespaced_config_map(namespace, config_map("a"))
    patched = core.patch_namespaced_config_map(
        "a", namespace, [{"op": "add", "path": "/data/extra", "value": "1"}]
    )
    assert patched.data == {"k": "v", "extra": "1"}
    pod = client.V1Pod(
        metadata=client.V1ObjectMeta(name="p"),
        spec=client.V1PodSpec(
            node_name="elsewhere",
            containers=[
                client.V1Container(name="referee", image="referee:1"),
                client.V1Container(name="agent", image="agent:1", args=["--fast"]),
            ],
        ),
    )
    core.create_namespaced_pod(namespace, pod)
    change = {"spec": {"containers": [{"name": "agent", "image": "agent:2"}]}}
    containers = core.patch_namespaced_pod("p", namespace, change).spec.containers
    assert [(c.name, c.image, c.args) for c in containers] == [
        ("referee", "referee:1", None),
        ("agent", "agent:2", ["--fast"]),
    ]


def test_immutable_fields_cannot_change(
    core: client.CoreV1Api, batch: client.BatchV1Api, namespace: str
) -> None:
    from .conftest import job

    batch.create_namespaced_job(namespace, job("j", backoff_limit=1))
    change = {"spec": {"template": {"spec": {"containers": [{"name": "main", "image": "b:2"}]}}}}
    with pytest.raises(ApiException) as raised:
        batch.patch_namespaced_job("j", namespace, change)
    assert raised.value.status == 422
    assert "spec.template: field is immutable" in json.loads(raised.value.body)["message"]
    pod = client.V1Pod(
        metadata=client.V1ObjectMeta(name="p"),
        spec=client.V1PodSpec(
            node_name="elsewhere", containers=[client.V1Container(name="c", image="c:1")]
        ),
    )
    core.create_namespaced_pod(namespace, pod)
    with pytest.raises(ApiException) as raised:
        core.patch_namespaced_pod("p", namespace, {"spec": {"hostname": "other"}})
    assert raised.value.status == 422


def test_a_collection_delete_and_a_namespace_delete(core: client.CoreV1Api, namespace: str) -> None:
    core.create_namespaced_config_map(namespace, config_map("a", app="x"))
    core.create_namespaced_config_map(namespace, config_map("b", app="y"))
    core.delete_collection_namespaced_config_map(namespace, label_selector="app=x")
    left = core.list_namespaced_config_map(namespace).items
    assert [c.metadata.name for c in left] == ["b"]
    core.delete_namespace(namespace)
    assert namespace not in [n.metadata.name for n in core.list_namespace().items]
    with pytest.raises(ApiException) as raised:
        core.read_namespaced_config_map("b", namespace)
    assert raised.value.status == 404
