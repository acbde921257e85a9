"""What the API server does to an object before storing it: strict schema validation against
a fixed Kubernetes version (``kubernetes-validate``), a few of its semantic checks, and the
defaults the controllers rely on (a Job's selector and pod labels, its backoff limit)."""

from __future__ import annotations

import base64
import copy
import re
import uuid
from typing import Any

from .errors import ApiError, invalid
from .resources import JOBS, PODS, Resource

KUBERNETES_VERSION = "1.31"
_DNS_SUBDOMAIN = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$")
_DNS_LABEL = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$")
JOB_NAME_LABELS = ("batch.kubernetes.io/job-name", "job-name")
CONTROLLER_UID_LABELS = ("batch.kubernetes.io/controller-uid", "controller-uid")


def _path(parts: Any) -> str:
    text = ""
    for part in parts:
        text += f"[{part}]" if isinstance(part, int) else f".{part}"
    return text.lstrip(".") or "<root>"


def validate(resource: Resource, obj: dict[str, Any]) -> None:
    """Raise 422 Invalid as the API server would for an object its schema refuses."""
    import kubernetes_validate  # its schemas and jsonschema cost a fifth of a second

    obj["apiVersion"], obj["kind"] = resource.api_version, resource.kind
    metadata = obj.get("metadata") or {}
    name = metadata.get("name") or metadata.get("generateName") or ""
    try:
        if not resource.custom:
            kubernetes_validate.validate(obj, KUBERNETES_VERSION, strict=True)
    except kubernetes_validate.ValidationError as error:
        raise invalid(resource, name, _path(error.absolute_path), error.message) from None
    if metadata.get("name") and not _DNS_SUBDOMAIN.match(metadata["name"]):
        raise invalid(
            resource,
            name,
            "metadata.name",
            f'Invalid value: "{metadata["name"]}": a lowercase RFC 1123 subdomain must consist '
            "of lower case alphanumeric characters, '-' or '.'",
        )
    if resource is JOBS:
        policy = obj["spec"]["template"].get("spec", {}).get("restartPolicy")
        if policy not in ("Never", "OnFailure"):
            raise invalid(
                resource,
                name,
                "spec.template.spec.restartPolicy",
                f'Unsupported value: "{policy or "Always"}": '
                'supported values: "OnFailure", "Never"',
            )
    if resource is PODS:
        _check_containers(resource, name, obj.get("spec") or {}, "spec")
    if resource is JOBS:
        _check_containers(
            resource, name, obj["spec"]["template"].get("spec") or {}, "spec.template.spec"
        )


def _check_containers(resource: Resource, name: str, spec: dict[str, Any], where: str) -> None:
    seen: set[str] = set()
    for group in ("initContainers", "containers"):
        for index, container in enumerate(spec.get(group) or []):
            field = f"{where}.{group}[{index}].name"
            if not _DNS_LABEL.match(container["name"]):
                raise invalid(resource, name, field, f'Invalid value: "{container["name"]}"')
            if container["name"] in seen:
                raise invalid(resource, name, field, f'Duplicate value: "{container["name"]}"')
            seen.add(container["name"])
            if not container.get("image"):
                raise invalid(resource, name, f"{where}.{group}[{index}].image", "Required value")


def default(resource: Resource, obj: dict[str, Any]) -> None:
    """The defaults the API server fills in that clients and controllers read back."""
    metadata = obj.setdefault("metadata", {})
    metadata["uid"] = str(uuid.uuid4())
    if resource is PODS:
        _default_pod_spec(obj.setdefault("spec", {}))
        obj["status"] = {"phase": "Pending", "qosClass": "BestEffort"}
    if resource is JOBS:
        _default_job(obj, metadata["uid"])
        obj["status"] = {}
    if resource.kind == "Secret":
        normalize_secret(obj)
    if resource.kind == "Namespace":
        obj["status"] = {"phase": "Active"}
        labels = metadata.setdefault("labels", {})
        labels["kubernetes.io/metadata.name"] = metadata.get("name", "")


def _default_pod_spec(spec: dict[str, Any]) -> None:
    spec.setdefault("restartPolicy", "Always")
    spec.setdefault("terminationGracePeriodSeconds", 30)
    spec.setdefault("dnsPolicy", "ClusterFirst")
    spec.setdefault("schedulerName", "default-scheduler")
    spec.setdefault("securityContext", {})
    for group in ("initContainers", "containers"):
        for container in spec.get(group) or []:
            image = container.get("image", "")
            latest = ":" not in image.rsplit("/", 1)[-1] or image.endswith(":latest")
            container.setdefault("imagePullPolicy", "Always" if latest else "IfNotPresent")
            container.setdefault("terminationMessagePath", "/dev/termination-log")
            container.setdefault("terminationMessagePolicy", "File")
            container.setdefault("resources", {})


def _default_job(job: dict[str, Any], uid: str) -> None:
    spec = job.setdefault("spec", {})
    name = job["metadata"].get("name", "")
    spec.setdefault("backoffLimit", 6)
    spec.setdefault("completions", 1)
    spec.setdefault("parallelism", 1)
    spec.setdefault("completionMode", "NonIndexed")
    spec.setdefault("suspend", False)
    spec.setdefault("podReplacementPolicy", "TerminatingOrFailed")
    if not spec.get("manualSelector"):
        spec["selector"] = {"matchLabels": {CONTROLLER_UID_LABELS[0]: uid}}
        template_metadata = spec["template"].setdefault("metadata", {})
        labels = template_metadata.setdefault("labels", {})
        for key in CONTROLLER_UID_LABELS:
            labels[key] = uid
        for key in JOB_NAME_LABELS:
            labels[key] = name
    _default_pod_spec(spec["template"].setdefault("spec", {}))


def reject_unless(condition: bool, code: int, reason: str, message: str) -> None:
    if not condition:
        raise ApiError(code, reason, message)


def normalize_secret(secret: dict[str, Any]) -> None:
    """``stringData`` is write-only: the API server folds it into ``data`` (base64)."""
    secret.setdefault("type", "Opaque")
    plain = secret.pop("stringData", None) or {}
    if plain:
        data = secret.setdefault("data", {})
        for key, value in plain.items():
            data[key] = base64.b64encode(value.encode()).decode()


_POD_MUTABLE = ("activeDeadlineSeconds", "tolerations", "terminationGracePeriodSeconds")


def _pod_spec_shape(spec: dict[str, Any]) -> dict[str, Any]:
    shape = copy.deepcopy(spec)
    _default_pod_spec(shape)
    for key in _POD_MUTABLE:
        shape.pop(key, None)
    for group in ("initContainers", "containers"):
        for container in shape.get(group) or []:
            container.pop("image", None)
    return shape


def check_update(resource: Resource, old: dict[str, Any], new: dict[str, Any]) -> None:
    """The fields an update may not change (422, as the API server answers)."""
    name = old["metadata"]["name"]
    if resource.kind == "Secret":
        normalize_secret(new)
    if resource is JOBS:
        for field in ("template", "selector"):
            before, after = old["spec"].get(field), (new.get("spec") or {}).get(field)
            if field == "template" and after is not None:
                after = copy.deepcopy(after)
                _default_pod_spec(after.setdefault("spec", {}))
            if after != before:
                raise invalid(resource, name, f"spec.{field}", "field is immutable")
    if resource is PODS and _pod_spec_shape(old["spec"]) != _pod_spec_shape(new.get("spec") or {}):
        raise invalid(
            resource,
            name,
            "spec",
            "Forbidden: pod updates may not change fields other than "
            "`spec.containers[*].image`, `spec.initContainers[*].image`, "
            "`spec.activeDeadlineSeconds`, `spec.tolerations` (only additions to existing "
            "tolerations), `spec.terminationGracePeriodSeconds`",
        )
