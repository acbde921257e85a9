"""The discovery documents clients read before anything else: ``/version``, ``/api``,
``/apis``, and each group version's resource list (legacy discovery, not the aggregated one)."""

from __future__ import annotations

from typing import Any

from .resources import RESOURCES, VERBS, Resource

VERSION = {
    "major": "1",
    "minor": "31",
    "gitVersion": "v1.31.0",
    "gitCommit": "0000000000000000000000000000000000000000",
    "gitTreeState": "clean",
    "buildDate": "2024-08-13T00:00:00Z",
    "goVersion": "go1.22.5",
    "compiler": "gc",
    "platform": "linux/amd64",
}
_SUBRESOURCES = {"pods": ["log"]}


def groups() -> list[str]:
    return sorted({r.group for r in RESOURCES if r.group})


def api_versions(address: str) -> dict[str, Any]:
    return {
        "kind": "APIVersions",
        "versions": ["v1"],
        "serverAddressByClientCIDRs": [{"clientCIDR": "0.0.0.0/0", "serverAddress": address}],
    }


def _group(name: str) -> dict[str, Any]:
    versions = sorted({r.version for r in RESOURCES if r.group == name})
    listed = [{"groupVersion": f"{name}/{v}", "version": v} for v in versions]
    return {"name": name, "versions": listed, "preferredVersion": listed[0]}


def api_group_list() -> dict[str, Any]:
    return {"kind": "APIGroupList", "apiVersion": "v1", "groups": [_group(g) for g in groups()]}


def api_group(name: str) -> dict[str, Any] | None:
    if name not in groups():
        return None
    return {"kind": "APIGroup", "apiVersion": "v1", **_group(name)}


def _entry(resource: Resource, name: str, verbs: list[str]) -> dict[str, Any]:
    entry: dict[str, Any] = {
        "name": name,
        "singularName": resource.kind.lower() if "/" not in name else "",
        "namespaced": resource.namespaced,
        "kind": resource.kind,
        "verbs": verbs,
    }
    if resource.short_names and "/" not in name:
        entry["shortNames"] = list(resource.short_names)
    return entry


def resource_list(group: str, version: str) -> dict[str, Any] | None:
    chosen = [r for r in RESOURCES if r.group == group and r.version == version]
    if not chosen:
        return None
    entries = []
    for resource in chosen:
        entries.append(_entry(resource, resource.plural, VERBS))
        if resource.status_subresource:
            entries.append(
                _entry(resource, f"{resource.plural}/status", ["get", "patch", "update"])
            )
        for sub in _SUBRESOURCES.get(resource.plural, []):
            entry = _entry(resource, f"{resource.plural}/{sub}", ["get"])
            entry["kind"] = "Pod"
            entries.append(entry)
    return {
        "kind": "APIResourceList",
        "apiVersion": "v1",
        "groupVersion": f"{group}/{version}" if group else version,
        "resources": entries,
    }
