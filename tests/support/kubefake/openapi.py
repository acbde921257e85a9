"""The OpenAPI v3 documents, as far as clients read them to decide how to validate.

kubectl and Helm (through kubectl's resource builder) check the objects they send against the
server's OpenAPI schema unless the server validates fields itself: they look for the
``fieldValidation`` query parameter on the PATCH operation of the object's kind (kubectl's
``QueryParamVerifierV3``), and only when it is missing download the whole OpenAPI v2 document
(protobuf, which the fake does not serve). The fake validates every object strictly on write
(``admission.py``), so it says so: ``/openapi/v3`` lists a document per group version
(``{"paths": {"apis/apps/v1": {"serverRelativeURL": ...}}}``), and each document holds, per
resource, the item path with a PATCH operation tagged ``x-kubernetes-group-version-kind`` and
taking ``fieldValidation``. No schemas: nothing here describes an object's fields.
"""

from __future__ import annotations

from typing import Any

from .resources import RESOURCES, Resource

_PREFIX = "/openapi/v3"


def _root_path(group: str, version: str) -> str:
    return f"apis/{group}/{version}" if group else f"api/{version}"


def _group_versions() -> list[tuple[str, str]]:
    return sorted({(r.group, r.version) for r in RESOURCES})


def index() -> dict[str, Any]:
    paths = {}
    for group, version in _group_versions():
        path = _root_path(group, version)
        paths[path] = {"serverRelativeURL": f"{_PREFIX}/{path}"}
    return {"paths": paths}


def _item_path(resource: Resource) -> str:
    base = "/" + _root_path(resource.group, resource.version)
    if resource.namespaced:
        return f"{base}/namespaces/{{namespace}}/{resource.plural}/{{name}}"
    return f"{base}/{resource.plural}/{{name}}"


def _patch(resource: Resource) -> dict[str, Any]:
    return {
        "operationId": f"patch{resource.kind}",
        "parameters": [
            {"name": name, "in": "query", "schema": {"type": "string", "uniqueItems": True}}
            for name in ("dryRun", "fieldManager", "fieldValidation", "force")
        ],
        "responses": {"200": {"description": "OK"}},
        "x-kubernetes-action": "patch",
        "x-kubernetes-group-version-kind": {
            "group": resource.group,
            "version": resource.version,
            "kind": resource.kind,
        },
    }


def document(path: str) -> dict[str, Any] | None:
    """``/openapi/v3`` or one group version's document; None for any other path."""
    if path == _PREFIX:
        return index()
    for group, version in _group_versions():
        if path == f"{_PREFIX}/{_root_path(group, version)}":
            chosen = [r for r in RESOURCES if (r.group, r.version) == (group, version)]
            return {
                "openapi": "3.0.0",
                "info": {"title": "Kubernetes", "version": "v1.31.0"},
                "paths": {_item_path(r): {"patch": _patch(r)} for r in chosen},
                "components": {},
            }
    return None
