"""The match Job and the NetworkPolicy of the kubernetes match runner: their exact security
fields, strict validation against the 1.31 and the newest bundled schemas, and a round trip
through the official client on the fake API server (whose Job controller makes the pod)."""

from __future__ import annotations

import json
import time
from typing import Any

import kubernetes_validate
import pytest
from kubernetes import client

from botarena.executor.kubernetes.manifests import (
    MatchJobSettings,
    deny_all_network_policy,
    match_job,
    match_job_name,
)
from botarena.executor.match_document import RefereeSpec, time_budget_seconds
from botarena.games.registry import get_game
from botarena.settings import Settings

SCHEMAS = ("1.31", kubernetes_validate.utils.latest_version())
REFEREE = "registry.example.org/botarena/botarena:0.1.0@sha256:" + "cd" * 32
AGENTS = [
    "registry.example.org/botarena/agent-agt-1@sha256:" + "01" * 32,
    "registry.example.org/botarena/agent-agt-2@sha256:" + "02" * 32,
]
MATCH = "mat-0123456789abcdef01234567"


def settings(**overrides: Any) -> Settings:
    return Settings(_env_file=None, k8s_referee_image=REFEREE, **overrides)  # type: ignore[call-arg]


def spec() -> RefereeSpec:
    configuration = get_game("connectx").configure({})
    return RefereeSpec(
        game="connectx",
        configuration=configuration,
        seed=11,
        agents=("alice", "bob"),
        time_budget_seconds=time_budget_seconds(configuration),
    )


def job(**overrides: Any) -> dict[str, Any]:
    config = MatchJobSettings.from_settings(settings(**overrides))
    return match_job(
        config, name=match_job_name(MATCH, "a1b2c3"), match_id=MATCH, spec=spec(), images=AGENTS
    )


def containers(made: dict[str, Any]) -> list[dict[str, Any]]:
    pod = made["spec"]["template"]["spec"]
    return [*pod["initContainers"], *pod["containers"]]


def test_one_job_one_pod_the_referee_and_an_agent_per_image() -> None:
    made = job()
    assert made["metadata"]["name"] == f"match-{MATCH}-a1b2c3"
    assert made["metadata"]["namespace"] == "botarena-matches"
    assert made["metadata"]["labels"]["botarena.io/match"] == MATCH
    assert made["metadata"]["labels"]["app.kubernetes.io/component"] == "match"
    job_spec = made["spec"]
    assert job_spec["backoffLimit"] == 0
    assert job_spec["activeDeadlineSeconds"] == spec().time_budget_seconds
    assert job_spec["ttlSecondsAfterFinished"] == 300
    pod = job_spec["template"]["spec"]
    assert pod["restartPolicy"] == "Never"
    assert pod["terminationGracePeriodSeconds"] == 2
    assert pod["automountServiceAccountToken"] is False
    assert pod["enableServiceLinks"] is False
    assert "runtimeClassName" not in pod
    [pipes] = pod["initContainers"]
    assert pipes["image"] == REFEREE
    assert pipes["command"] == ["botarena", "referee", "pipes"]
    referee, *agents = pod["containers"]
    assert (referee["name"], referee["image"]) == ("referee", REFEREE)
    assert referee["command"] == ["botarena", "referee"]
    env = {item["name"]: item["value"] for item in referee["env"]}
    assert RefereeSpec.from_json(env["BOTARENA_REFEREE_SPEC"]) == spec()
    assert referee["terminationMessagePolicy"] == "FallbackToLogsOnError"
    assert [a["image"] for a in agents] == AGENTS
    for player, agent in enumerate(agents):
        assert agent["name"] == f"agent-{player}"
        assert "command" not in agent and "args" not in agent  # the image's own: the shim
        assert {"name": "BOTARENA_PROTOCOL_PIPES", "value": "/match"} in agent["env"]
        shared = [m for m in agent["volumeMounts"] if m["name"] == "match"]
        # Its own folder of the shared volume only: no agent reaches another's pipes.
        assert shared == [{"name": "match", "mountPath": "/match", "subPath": f"p{player}"}]
        assert agent["resources"]["limits"] == {"cpu": "1", "memory": "512Mi"}
    assert referee["resources"]["limits"] == {"cpu": "500m", "memory": "256Mi"}
    # Nothing of the platform's reaches the pod: no secret, no token, no config map.
    text = json.dumps(made)
    for word in ("secret", "serviceAccountName", "configMap", "hostPath", "hostNetwork"):
        assert word not in text


def test_every_container_is_confined() -> None:
    pod = job()["spec"]["template"]["spec"]
    assert pod["securityContext"]["runAsNonRoot"] is True
    assert pod["securityContext"]["seccompProfile"] == {"type": "RuntimeDefault"}
    for container in containers(job()):
        security = container["securityContext"]
        # The agents are nobody; the referee, who owns the pipes' folders, is another user.
        user = 65534 if container["name"].startswith("agent-") else 65532
        assert security["runAsNonRoot"] is True and security["runAsUser"] == user
        assert security["readOnlyRootFilesystem"] is True
        assert security["allowPrivilegeEscalation"] is False
        assert security["privileged"] is False
        assert security["capabilities"] == {"drop": ["ALL"]}
        assert security["seccompProfile"] == {"type": "RuntimeDefault"}
        assert container["resources"]["requests"] == container["resources"]["limits"]
    volumes = {v["name"]: v for v in pod["volumes"]}
    assert set(volumes) == {"match", "tmp-referee", "tmp-agent-0", "tmp-agent-1"}
    assert all("emptyDir" in volume for volume in volumes.values())


def test_the_settings_show_in_the_job() -> None:
    made = job(
        k8s_match_runtime_class="gvisor",
        k8s_agent_cpu="250m",
        k8s_agent_memory="1Gi",
        k8s_match_ttl_seconds=60,
        k8s_match_namespace="arena",
    )
    pod = made["spec"]["template"]["spec"]
    assert pod["runtimeClassName"] == "gvisor"
    assert made["metadata"]["namespace"] == "arena"
    assert made["spec"]["ttlSecondsAfterFinished"] == 60
    assert pod["containers"][1]["resources"]["limits"] == {"cpu": "250m", "memory": "1Gi"}


def test_the_time_budget_covers_every_clock_of_the_match() -> None:
    configuration = {"actTimeout": 2, "overageTime": 60, "agentTimeout": 60, "episodeSteps": 10}
    # startup 60 + 10 steps * 2 s * 2 players + 60 s overage * 2 + 1, and the pod's start.
    assert time_budget_seconds(configuration) == 60 + 40 + 120 + 1 + 120


def test_the_network_policy_denies_everything_to_match_pods() -> None:
    policy = deny_all_network_policy("botarena-matches")
    assert policy["spec"] == {
        "podSelector": {
            "matchLabels": {
                "app.kubernetes.io/name": "botarena",
                "app.kubernetes.io/component": "match",
            }
        },
        "policyTypes": ["Ingress", "Egress"],
    }
    pod_labels = job()["spec"]["template"]["metadata"]["labels"]
    assert policy["spec"]["podSelector"]["matchLabels"].items() <= pod_labels.items()


@pytest.mark.parametrize("version", SCHEMAS)
def test_every_manifest_is_valid_in_strict_mode(version: str) -> None:
    for manifest in (job(), job(k8s_match_runtime_class="gvisor"), deny_all_network_policy("x")):
        kubernetes_validate.validate(manifest, version, strict=True)


def test_an_unknown_field_would_be_caught() -> None:
    broken = job()
    broken["spec"]["template"]["spec"]["containers"][0]["securityContext"]["readOnlyRoot"] = True
    with pytest.raises(kubernetes_validate.ValidationError):
        kubernetes_validate.validate(broken, "1.31", strict=True)


def test_match_job_names_are_dns_labels() -> None:
    assert match_job_name("MAT_Weird id", "ab12") == "match-mat-weird-id-ab12"
    with pytest.raises(ValueError, match="match Job name"):
        match_job_name("x", "UPPER")


def test_the_job_goes_through_the_official_client_and_makes_its_pod(
    kubernetes_api: client.ApiClient,
) -> None:
    core, batch = client.CoreV1Api(kubernetes_api), client.BatchV1Api(kubernetes_api)
    networking = client.NetworkingV1Api(kubernetes_api)
    core.create_namespace({"metadata": {"name": "botarena-matches"}})
    networking.create_namespaced_network_policy(
        "botarena-matches", deny_all_network_policy("botarena-matches")
    )
    made = job()
    batch.create_namespaced_job("botarena-matches", made)
    name = made["metadata"]["name"]
    pod = None
    for _ in range(200):
        pods = core.list_namespaced_pod(
            "botarena-matches", label_selector=f"batch.kubernetes.io/job-name={name}"
        ).items
        if pods:
            pod = pods[0]
            break
        time.sleep(0.02)
    assert pod is not None
    assert pod.metadata.labels["botarena.io/match"] == MATCH
    assert pod.spec.automount_service_account_token is False
    assert [c.name for c in pod.spec.containers] == ["referee", "agent-0", "agent-1"]
    assert pod.spec.containers[1].volume_mounts[0].sub_path == "p0"
