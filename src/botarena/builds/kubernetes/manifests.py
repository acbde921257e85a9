"""The objects of the Kubernetes build mode, as the API takes them (plain JSON-ready dicts).

One build attempt is one Kaniko Job in the builds namespace. Its context comes through the
pod's stdin (``tar://stdin``, attached by the platform), so the pod holds no credential of the
platform: no service-account token, no environment, only the registry's push credentials,
mounted read-only where Kaniko looks for them. The platform retries builds itself, with its
own reasons, so the Job never does (``backoffLimit: 0``).
"""

from __future__ import annotations

import base64
import json
import math
from dataclasses import dataclass
from typing import Any

from pydantic import SecretStr

from botarena.builds.kubernetes.names import build_job_name, image_reference
from botarena.kube_syntax import check_dns_label, check_dns_subdomain, check_registry_host
from botarena.settings import Settings

Manifest = dict[str, Any]

APP_LABELS = {"app.kubernetes.io/name": "botarena"}
SUBMISSION_LABEL = "botarena.io/submission"
ATTEMPT_LABEL = "botarena.io/attempt"
# Set on a build Job once its whole context was written to the builder's stdin: a Job picked
# up without it may still wait for a context nobody will send.
CONTEXT_SENT_ANNOTATION = "botarena.io/context-sent"
BUILDER_CONTAINER = "kaniko"
CREDENTIALS_VOLUME = "registry-credentials"
CREDENTIALS_DIR = "/kaniko/.docker"
# Kaniko writes the pushed digest there; the kubelet hands it back as the container's
# terminated state message.
TERMINATION_LOG = "/dev/termination-log"


@dataclass(frozen=True)
class BuildJobSettings:
    """What every build Job shares, from the ``k8s_*`` settings and the build timeout."""

    namespace: str
    builder_image: str
    registry: str
    registry_secret: str
    cache_repo: str
    cpu: str
    memory: str
    ephemeral_storage: str
    deadline_seconds: int
    ttl_seconds: int
    runtime_class: str | None = None
    registry_insecure: bool = False

    @classmethod
    def from_settings(cls, settings: Settings) -> BuildJobSettings:
        registry, cache_repo = settings.k8s_registry, settings.k8s_resolved_cache_repo
        if not registry or not cache_repo:
            raise ValueError("BOTARENA_K8S_REGISTRY is required to build on Kubernetes")
        return cls(
            namespace=settings.k8s_build_namespace,
            builder_image=settings.k8s_builder_image,
            registry=registry,
            registry_secret=settings.k8s_registry_secret,
            cache_repo=cache_repo,
            cpu=settings.k8s_build_cpu,
            memory=settings.k8s_build_memory,
            ephemeral_storage=settings.k8s_build_ephemeral_storage,
            deadline_seconds=max(1, math.ceil(settings.build_timeout)),
            ttl_seconds=settings.k8s_build_ttl_seconds,
            runtime_class=settings.k8s_runtime_class,
            registry_insecure=settings.k8s_registry_insecure,
        )


def build_labels(submission_id: str, attempt: int) -> dict[str, str]:
    """The labels of a build's Job and pod; the backend selects and watches by them."""
    return {
        **APP_LABELS,
        "app.kubernetes.io/component": "build",
        SUBMISSION_LABEL: submission_id,
        ATTEMPT_LABEL: str(attempt),
    }


def kaniko_args(
    destination: str, cache_repo: str, *, force: bool, insecure: bool = False
) -> list[str]:
    """Kaniko's command line: the context from stdin, the digest into the termination log."""
    args = [
        "--context=tar://stdin",
        "--dockerfile=Dockerfile",
        f"--destination={destination}",
        "--cache=true",
        f"--cache-repo={cache_repo}",
        "--snapshot-mode=redo",
        f"--digest-file={TERMINATION_LOG}",
        "--push-retry=2",
    ]
    if insecure:  # a registry without TLS: pushed to and its cache read over plain HTTP
        args += ["--insecure", "--insecure-pull"]
    # Kaniko refuses to run where it cannot tell it is in a container, as under gVisor.
    return [*args, "--force"] if force else args


def build_job(
    config: BuildJobSettings, *, submission_id: str, agent_id: str, version: int, attempt: int
) -> Manifest:
    """The batch/v1 Job of one build attempt of a submission."""
    destination = image_reference(config.registry, agent_id, submission_id, version)
    labels = build_labels(submission_id, attempt)
    resources = {
        "cpu": config.cpu,
        "memory": config.memory,
        "ephemeral-storage": config.ephemeral_storage,
    }
    container: Manifest = {
        "name": BUILDER_CONTAINER,
        "image": config.builder_image,
        "args": kaniko_args(
            destination,
            config.cache_repo,
            force=bool(config.runtime_class),
            insecure=config.registry_insecure,
        ),
        "stdin": True,
        "stdinOnce": True,
        "tty": False,
        "resources": {"requests": dict(resources), "limits": dict(resources)},
        "volumeMounts": [
            {"name": CREDENTIALS_VOLUME, "mountPath": CREDENTIALS_DIR, "readOnly": True}
        ],
        "terminationMessagePath": TERMINATION_LOG,
        "terminationMessagePolicy": "File",
    }
    pod_spec: Manifest = {
        "restartPolicy": "Never",
        "automountServiceAccountToken": False,
        "enableServiceLinks": False,
        "containers": [container],
        "volumes": [
            {
                "name": CREDENTIALS_VOLUME,
                "secret": {
                    "secretName": config.registry_secret,
                    "items": [{"key": ".dockerconfigjson", "path": "config.json"}],
                    "defaultMode": 0o400,
                },
            }
        ],
    }
    if config.runtime_class:
        pod_spec["runtimeClassName"] = config.runtime_class
    return {
        "apiVersion": "batch/v1",
        "kind": "Job",
        "metadata": {
            "name": build_job_name(submission_id, attempt),
            "namespace": config.namespace,
            "labels": labels,
        },
        "spec": {
            "backoffLimit": 0,
            "activeDeadlineSeconds": config.deadline_seconds,
            "ttlSecondsAfterFinished": config.ttl_seconds,
            "template": {"metadata": {"labels": dict(labels)}, "spec": pod_spec},
        },
    }


def _namespace(name: str, enforce: str) -> Manifest:
    labels = {
        **APP_LABELS,
        "pod-security.kubernetes.io/enforce": enforce,
        "pod-security.kubernetes.io/warn": "restricted",
        "pod-security.kubernetes.io/audit": "restricted",
    }
    return {
        "apiVersion": "v1",
        "kind": "Namespace",
        "metadata": {"name": check_dns_label(name, "namespace"), "labels": labels},
    }


def build_namespace(name: str) -> Manifest:
    """The builds' namespace: Pod Security ``baseline`` enforced, since Kaniko runs as root
    and rewrites its own root filesystem; ``restricted`` warned and audited."""
    return _namespace(name, "baseline")


def match_namespace(name: str) -> Manifest:
    """The matches' namespace: Pod Security ``restricted`` enforced."""
    return _namespace(name, "restricted")


def registry_secret(
    name: str, namespace: str, registry_host: str, username: str, password: SecretStr
) -> Manifest:
    """A ``kubernetes.io/dockerconfigjson`` Secret with push credentials for one registry."""
    host = check_registry_host(registry_host, "registry host")
    secret = password.get_secret_value()
    auth = base64.b64encode(f"{username}:{secret}".encode()).decode()
    config = {"auths": {host: {"username": username, "password": secret, "auth": auth}}}
    return {
        "apiVersion": "v1",
        "kind": "Secret",
        "type": "kubernetes.io/dockerconfigjson",
        "metadata": {
            "name": check_dns_subdomain(name, "Secret name"),
            "namespace": check_dns_label(namespace, "namespace"),
            "labels": dict(APP_LABELS),
        },
        "data": {".dockerconfigjson": base64.b64encode(json.dumps(config).encode()).decode()},
    }
