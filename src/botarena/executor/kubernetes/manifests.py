"""The objects of a match played on Kubernetes, as the API takes them (plain JSON-ready dicts).

One match is one Job in the matches namespace whose one pod holds the referee (the botarena
image, ``botarena referee``) and one container per agent, from the agent's built image. They
share an ``emptyDir``: an init container makes each player's named pipes there, and each agent
mounts only its own folder of it (``subPath``), so an agent reaches the referee and nothing
else; the NetworkPolicy leaves match pods no network at all. Every container is non-root with
a read-only root, no capability, no privilege escalation, the runtime's default seccomp
profile and limits of its own; the pod has no service-account token. The platform retries a
failed match itself, so the Job never does (``backoffLimit: 0``), and its deadline is the
match's time budget.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from botarena.executor.match_document import RefereeSpec
from botarena.executor.pipes import PIPES_ENV, player_folder_name
from botarena.kube_syntax import check_dns_label
from botarena.settings import Settings

Manifest = dict[str, Any]

APP_LABELS = {"app.kubernetes.io/name": "botarena"}
COMPONENT_LABELS = {**APP_LABELS, "app.kubernetes.io/component": "match"}
MATCH_LABEL = "botarena.io/match"
REFEREE_CONTAINER = "referee"
PIPES_CONTAINER = "pipes"
NETWORK_POLICY = "botarena-matches-deny-all"
SHARED_VOLUME = "match"
SHARED_DIR = "/match"
TERMINATION_LOG = "/dev/termination-log"
REFEREE_SPEC_ENV = "BOTARENA_REFEREE_SPEC"
TERMINATION_GRACE_SECONDS = 2
# nobody: the agents' user in every runner. The referee is another user, who owns the pipes'
# folders, so an agent can open its pipes but add nothing to the shared volume.
AGENT_USER = 65534
REFEREE_USER = 65532
_ENVIRONMENT = {"HOME": "/tmp", "PYTHONDONTWRITEBYTECODE": "1"}  # noqa: S108
_NOT_IN_A_NAME = re.compile(r"[^a-z0-9-]+")


@dataclass(frozen=True)
class MatchJobSettings:
    """What every match Job shares, from the ``k8s_*`` settings."""

    namespace: str
    referee_image: str
    agent_cpu: str
    agent_memory: str
    referee_cpu: str
    referee_memory: str
    tmp_size: str
    ttl_seconds: int
    runtime_class: str | None = None

    @classmethod
    def from_settings(cls, settings: Settings) -> MatchJobSettings:
        return cls(
            namespace=settings.k8s_match_namespace,
            referee_image=settings.k8s_referee_image,
            agent_cpu=settings.k8s_agent_cpu,
            agent_memory=settings.k8s_agent_memory,
            referee_cpu=settings.k8s_referee_cpu,
            referee_memory=settings.k8s_referee_memory,
            tmp_size=settings.k8s_match_tmp_size,
            ttl_seconds=settings.k8s_match_ttl_seconds,
            runtime_class=settings.k8s_match_runtime_class,
        )


def match_job_name(match_id: str, suffix: str) -> str:
    """``match-{matchId}-{suffix}``: a new suffix for each time a match is played, so a Job
    left by an executor that died never blocks the match's next play."""
    cleaned = _NOT_IN_A_NAME.sub("-", match_id.lower()).strip("-")[:48].strip("-")
    return check_dns_label(f"match-{cleaned}-{suffix}", "match Job name")


def match_labels(match_id: str) -> dict[str, str]:
    """The labels of a match's Job and pod; the runner finds a match's Jobs by them."""
    cleaned = _NOT_IN_A_NAME.sub("-", match_id.lower()).strip("-")[:63].strip("-")
    return {**COMPONENT_LABELS, MATCH_LABEL: cleaned}


def agent_container_name(player: int) -> str:
    return f"agent-{player}"


def _confined(cpu: str, memory: str, user: int) -> Manifest:
    """The security context and limits every container of a match pod gets."""
    return {
        "securityContext": {
            "runAsNonRoot": True,
            "runAsUser": user,
            "runAsGroup": user,
            "readOnlyRootFilesystem": True,
            "allowPrivilegeEscalation": False,
            "privileged": False,
            "capabilities": {"drop": ["ALL"]},
            "seccompProfile": {"type": "RuntimeDefault"},
        },
        "resources": {
            "requests": {"cpu": cpu, "memory": memory},
            "limits": {"cpu": cpu, "memory": memory},
        },
    }


def _environment(extra: dict[str, str] | None = None) -> list[Manifest]:
    values = {**_ENVIRONMENT, **(extra or {})}
    return [{"name": name, "value": value} for name, value in values.items()]


def _tmp_volume(container: str) -> str:
    return f"tmp-{container}"


def match_job(
    config: MatchJobSettings,
    *,
    name: str,
    match_id: str,
    spec: RefereeSpec,
    images: Sequence[str],
) -> Manifest:
    """The batch/v1 Job that plays ``spec`` between the agents of ``images`` (player 0 first)."""
    labels = match_labels(match_id)
    shared_mount = {"name": SHARED_VOLUME, "mountPath": SHARED_DIR}
    referee_tmp = _tmp_volume(REFEREE_CONTAINER)
    pipes: Manifest = {
        "name": PIPES_CONTAINER,
        "image": config.referee_image,
        "command": ["botarena", "referee", "pipes"],
        "args": [f"--players={len(images)}", f"--pipes={SHARED_DIR}"],
        "env": _environment(),
        "volumeMounts": [dict(shared_mount)],
        **_confined(config.referee_cpu, config.referee_memory, REFEREE_USER),
    }
    referee: Manifest = {
        "name": REFEREE_CONTAINER,
        "image": config.referee_image,
        "command": ["botarena", "referee"],
        "args": [f"--pipes={SHARED_DIR}", f"--termination-log={TERMINATION_LOG}"],
        "env": _environment({REFEREE_SPEC_ENV: spec.to_json()}),
        "volumeMounts": [dict(shared_mount), {"name": referee_tmp, "mountPath": "/tmp"}],  # noqa: S108
        "terminationMessagePath": TERMINATION_LOG,
        "terminationMessagePolicy": "FallbackToLogsOnError",
        **_confined(config.referee_cpu, config.referee_memory, REFEREE_USER),
    }
    containers = [referee]
    volumes: list[Manifest] = [
        {"name": SHARED_VOLUME, "emptyDir": {"sizeLimit": "1Mi"}},
        {"name": referee_tmp, "emptyDir": {"medium": "Memory", "sizeLimit": config.tmp_size}},
    ]
    for player, image in enumerate(images):
        container = agent_container_name(player)
        containers.append(
            {
                "name": container,
                "image": image,
                # The image's own command: the agent shim, which speaks through the pipes the
                # environment names.
                "env": _environment({PIPES_ENV: SHARED_DIR}),
                "volumeMounts": [
                    {
                        "name": SHARED_VOLUME,
                        "mountPath": SHARED_DIR,
                        "subPath": player_folder_name(player),
                    },
                    {"name": _tmp_volume(container), "mountPath": "/tmp"},  # noqa: S108
                ],
                "terminationMessagePolicy": "FallbackToLogsOnError",
                **_confined(config.agent_cpu, config.agent_memory, AGENT_USER),
            }
        )
        volumes.append(
            {
                "name": _tmp_volume(container),
                "emptyDir": {"medium": "Memory", "sizeLimit": config.tmp_size},
            }
        )
    pod_spec: Manifest = {
        "restartPolicy": "Never",
        # Nothing in a match pod needs a graceful end: a deleted match's pod goes at once.
        "terminationGracePeriodSeconds": TERMINATION_GRACE_SECONDS,
        "automountServiceAccountToken": False,
        "enableServiceLinks": False,
        "securityContext": {
            "runAsNonRoot": True,
            "runAsUser": AGENT_USER,
            "runAsGroup": AGENT_USER,
            "seccompProfile": {"type": "RuntimeDefault"},
        },
        "initContainers": [pipes],
        "containers": containers,
        "volumes": volumes,
    }
    if config.runtime_class:
        pod_spec["runtimeClassName"] = config.runtime_class
    return {
        "apiVersion": "batch/v1",
        "kind": "Job",
        "metadata": {"name": name, "namespace": config.namespace, "labels": labels},
        "spec": {
            "backoffLimit": 0,
            "activeDeadlineSeconds": spec.time_budget_seconds,
            "ttlSecondsAfterFinished": config.ttl_seconds,
            "template": {"metadata": {"labels": dict(labels)}, "spec": pod_spec},
        },
    }


def deny_all_network_policy(namespace: str) -> Manifest:
    """Match pods get no network: no ingress, no egress (not even DNS)."""
    return {
        "apiVersion": "networking.k8s.io/v1",
        "kind": "NetworkPolicy",
        "metadata": {
            "name": NETWORK_POLICY,
            "namespace": check_dns_label(namespace, "namespace"),
            "labels": dict(APP_LABELS),
        },
        "spec": {
            "podSelector": {"matchLabels": dict(COMPONENT_LABELS)},
            "policyTypes": ["Ingress", "Egress"],
        },
    }
