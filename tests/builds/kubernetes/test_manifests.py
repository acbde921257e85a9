"""The build mode's manifests: their exact content, strict validation against the 1.31 and the
newest bundled schemas, and a round trip through the official client on the fake API server
(whose Job controller makes the build's pod)."""

from __future__ import annotations

import base64
import json
import time
from typing import Any

import kubernetes_validate
import pytest
from kubernetes import client
from pydantic import SecretStr

from botarena.builds.kubernetes.manifests import (
    BuildJobSettings,
    build_job,
    build_namespace,
    match_namespace,
    registry_secret,
)
from botarena.settings import Settings

REGISTRY = "registry.example.org/botarena"
KANIKO = "ghcr.io/osscontainertools/kaniko:v1.28.3@sha256:" + "ab" * 32
SCHEMAS = ("1.31", kubernetes_validate.utils.latest_version())


def settings(**overrides: Any) -> Settings:
    values: dict[str, Any] = {
        "k8s_registry": REGISTRY,
        "k8s_builder_image": KANIKO,
        "build_timeout": 1799.5,
        **overrides,
    }
    return Settings(_env_file=None, **values)  # type: ignore[call-arg]


def job(**overrides: Any) -> dict[str, Any]:
    config = BuildJobSettings.from_settings(settings(**overrides))
    return build_job(config, submission_id="sub-3f9c", agent_id="agt-1a2b", version=2, attempt=1)


def test_the_build_job_is_one_kaniko_attempt_the_platform_retries_itself() -> None:
    made = job(k8s_runtime_class="gvisor")
    labels = {
        "app.kubernetes.io/name": "botarena",
        "app.kubernetes.io/component": "build",
        "botarena.io/submission": "sub-3f9c",
        "botarena.io/attempt": "1",
    }
    assert made["metadata"] == {
        "name": "build-sub-3f9c",
        "namespace": "botarena-builds",
        "labels": labels,
    }
    spec = made["spec"]
    assert (spec["backoffLimit"], spec["activeDeadlineSeconds"]) == (0, 1800)
    assert spec["ttlSecondsAfterFinished"] == 600
    assert spec["template"]["metadata"]["labels"] == labels
    pod = spec["template"]["spec"]
    assert pod["restartPolicy"] == "Never"
    assert pod["automountServiceAccountToken"] is False
    assert pod["runtimeClassName"] == "gvisor"
    [container] = pod["containers"]
    assert container["name"] == "kaniko" and container["image"] == KANIKO
    assert container["args"] == [
        "--context=tar://stdin",
        "--dockerfile=Dockerfile",
        f"--destination={REGISTRY}/agent-agt-1a2b:sub-3f9c-v2",
        "--cache=true",
        f"--cache-repo={REGISTRY}/cache",
        "--snapshot-mode=redo",
        "--digest-file=/dev/termination-log",
        "--push-retry=2",
        "--force",  # gVisor: Kaniko cannot tell it runs in a container
    ]
    assert (container["stdin"], container["stdinOnce"], container["tty"]) == (True, True, False)
    assert container["terminationMessagePolicy"] == "File"
    assert container["terminationMessagePath"] == "/dev/termination-log"
    quantities = {"cpu": "1", "memory": "2Gi", "ephemeral-storage": "4Gi"}
    assert container["resources"] == {"requests": quantities, "limits": quantities}
    assert container["volumeMounts"] == [
        {"name": "registry-credentials", "mountPath": "/kaniko/.docker", "readOnly": True}
    ]
    assert pod["volumes"] == [
        {
            "name": "registry-credentials",
            "secret": {
                "secretName": "botarena-registry",
                "items": [{"key": ".dockerconfigjson", "path": "config.json"}],
                "defaultMode": 0o400,
            },
        }
    ]


def test_the_build_pod_gets_nothing_of_the_platform() -> None:
    pod = job()["spec"]["template"]["spec"]
    [container] = pod["containers"]
    # No environment, no other volume, no service account or its token, no host namespace.
    assert not {"env", "envFrom"} & container.keys()
    assert not {"serviceAccountName", "hostNetwork", "hostPID", "hostIPC"} & pod.keys()
    assert [volume["name"] for volume in pod["volumes"]] == ["registry-credentials"]
    assert "runtimeClassName" not in pod and "--force" not in container["args"]
    assert not [arg for arg in container["args"] if arg.startswith("--insecure")]


def test_a_registry_without_tls_is_pushed_to_over_plain_http() -> None:
    [container] = job(k8s_registry_insecure=True)["spec"]["template"]["spec"]["containers"]
    assert {"--insecure", "--insecure-pull"} <= set(container["args"])


def test_retries_the_settings_and_the_cache_repo_show_in_the_job() -> None:
    config = BuildJobSettings.from_settings(
        settings(
            k8s_build_namespace="builds",
            k8s_cache_repo="cache.example.org/layers",
            k8s_build_cpu="500m",
            k8s_build_ttl_seconds=0,
            build_timeout=60,
        )
    )
    made = build_job(config, submission_id="sub-1", agent_id="agt-1", version=1, attempt=3)
    assert made["metadata"]["name"] == "build-sub-1-3"
    assert made["metadata"]["namespace"] == "builds"
    assert made["metadata"]["labels"]["botarena.io/attempt"] == "3"
    assert (made["spec"]["activeDeadlineSeconds"], made["spec"]["ttlSecondsAfterFinished"]) == (
        60,
        0,
    )
    [container] = made["spec"]["template"]["spec"]["containers"]
    assert "--cache-repo=cache.example.org/layers" in container["args"]
    assert container["resources"]["limits"]["cpu"] == "500m"


def test_without_a_registry_there_is_no_build_job() -> None:
    with pytest.raises(ValueError, match="BOTARENA_K8S_REGISTRY is required"):
        BuildJobSettings.from_settings(settings(k8s_registry=None))


def test_the_namespaces_carry_their_pod_security_levels() -> None:
    builds, matches = build_namespace("botarena-builds"), match_namespace("botarena-matches")
    assert builds["metadata"]["labels"]["pod-security.kubernetes.io/enforce"] == "baseline"
    assert matches["metadata"]["labels"]["pod-security.kubernetes.io/enforce"] == "restricted"
    for namespace in (builds, matches):
        labels = namespace["metadata"]["labels"]
        assert labels["pod-security.kubernetes.io/warn"] == "restricted"
        assert labels["pod-security.kubernetes.io/audit"] == "restricted"
    with pytest.raises(ValueError, match="DNS-1123 label"):
        build_namespace("Botarena")


def secret() -> dict[str, Any]:
    return registry_secret(
        "botarena-registry", "botarena-builds", "registry.example.org", "pusher", SecretStr("s3")
    )


def test_the_registry_secret_is_a_docker_config_for_one_registry() -> None:
    made = secret()
    assert made["type"] == "kubernetes.io/dockerconfigjson"
    config = json.loads(base64.b64decode(made["data"][".dockerconfigjson"]))
    assert config == {
        "auths": {
            "registry.example.org": {
                "username": "pusher",
                "password": "s3",
                "auth": base64.b64encode(b"pusher:s3").decode(),
            }
        }
    }
    with pytest.raises(ValueError, match="registry host"):
        registry_secret("r", "n", "https://registry.example.org", "u", SecretStr("p"))


def manifests() -> list[dict[str, Any]]:
    return [
        job(),
        job(k8s_runtime_class="gvisor"),
        build_namespace("botarena-builds"),
        match_namespace("botarena-matches"),
        secret(),
    ]


@pytest.mark.parametrize("version", SCHEMAS)
def test_every_manifest_is_valid_in_strict_mode(version: str) -> None:
    for manifest in manifests():
        kubernetes_validate.validate(manifest, version, strict=True)


def test_an_unknown_field_would_be_caught() -> None:
    broken = job()
    broken["spec"]["template"]["spec"]["containers"][0]["stdinOnly"] = True
    with pytest.raises(kubernetes_validate.ValidationError):
        kubernetes_validate.validate(broken, "1.31", strict=True)


def test_the_manifests_go_through_the_official_client_and_the_job_makes_its_pod(
    kubernetes_api: client.ApiClient,
) -> None:
    core, batch = client.CoreV1Api(kubernetes_api), client.BatchV1Api(kubernetes_api)
    core.create_namespace(build_namespace("botarena-builds"))
    core.create_namespace(match_namespace("botarena-matches"))
    core.create_namespaced_secret("botarena-builds", secret())
    made = job()
    batch.create_namespaced_job("botarena-builds", made)

    namespace = core.read_namespace("botarena-builds")
    assert namespace.metadata.labels["pod-security.kubernetes.io/enforce"] == "baseline"
    stored = core.read_namespaced_secret("botarena-registry", "botarena-builds")
    assert stored.type == "kubernetes.io/dockerconfigjson"
    assert stored.data == secret()["data"]
    read = batch.read_namespaced_job("build-sub-3f9c", "botarena-builds")
    assert read.spec.backoff_limit == 0 and read.spec.active_deadline_seconds == 1800
    assert (
        read.spec.template.spec.containers[0].args
        == (made["spec"]["template"]["spec"]["containers"][0]["args"])
    )

    pod = _pod_of(core, "build-sub-3f9c")
    for key, value in made["metadata"]["labels"].items():
        assert pod.metadata.labels[key] == value
    assert pod.metadata.owner_references[0].name == "build-sub-3f9c"
    assert pod.spec.automount_service_account_token is False
    [container] = pod.spec.containers
    assert (container.stdin, container.stdin_once, container.tty) == (True, True, False)
    assert container.termination_message_policy == "File"
    [mount] = container.volume_mounts
    assert (mount.mount_path, mount.read_only) == ("/kaniko/.docker", True)
    [volume] = pod.spec.volumes
    assert volume.secret.secret_name == "botarena-registry"
    assert [(item.key, item.path) for item in volume.secret.items] == [
        (".dockerconfigjson", "config.json")
    ]


def test_the_fake_refuses_what_the_api_refuses(kubernetes_api: client.ApiClient) -> None:
    """The round trip above can fail: the fake answers 422 to a Job the API would refuse."""
    core, batch = client.CoreV1Api(kubernetes_api), client.BatchV1Api(kubernetes_api)
    core.create_namespace(build_namespace("botarena-builds"))
    broken = job()
    broken["spec"]["template"]["spec"]["restartPolicy"] = "Always"
    with pytest.raises(client.ApiException) as refused:
        batch.create_namespaced_job("botarena-builds", broken)
    assert refused.value.status == 422


def _pod_of(core: client.CoreV1Api, job_name: str) -> client.V1Pod:
    selector = f"batch.kubernetes.io/job-name={job_name}"
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        pods = core.list_namespaced_pod("botarena-builds", label_selector=selector).items
        if pods:
            return pods[0]
        time.sleep(0.02)
    pytest.fail(f"the Job {job_name} made no pod")
