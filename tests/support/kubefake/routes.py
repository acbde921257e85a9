"""The API's paths: discovery, then ``/api/v1/...`` and ``/apis/{group}/{version}/...`` with
the namespaced form ``namespaces/{ns}/{plural}[/{name}[/{subresource}]]``."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from . import discovery, openapi
from .admission import check_update, validate
from .attach import pod_attach
from .errors import ApiError, bad_request, watch_list_forbidden
from .http import Request
from .patches import apply_patch
from .pod_logs import pod_log
from .resources import BY_PATH, NAMESPACES, PODS, Resource
from .selectors import matcher
from .watch import open_watch

if TYPE_CHECKING:
    from .cluster import Cluster

_NOT_FOUND = ApiError(404, "NotFound", "the server could not find the requested resource")


@dataclass
class Target:
    resource: Resource
    namespace: str | None  # None: across all namespaces (or cluster-scoped)
    name: str | None
    subresource: str | None


def route(cluster: Cluster, request: Request) -> None:
    path = request.path
    if request.method == "GET" and path in ("/healthz", "/readyz", "/livez"):
        request.send_text(200, b"ok")
        return
    simple = _discovery(request, path)
    if simple is not None:
        request.send_json(200, simple)
        return
    target = _parse(path)
    if target is None:
        raise _NOT_FOUND
    if target.name is None:
        _collection(cluster, request, target)
    else:
        _item(cluster, request, target)


def _discovery(request: Request, path: str) -> dict[str, Any] | None:
    if request.method != "GET":
        return None
    if path == "/version":
        return discovery.VERSION
    if path == "/api":
        return discovery.api_versions(request.handler.server.address)
    if path == "/apis":
        return discovery.api_group_list()
    if path == "/api/v1":
        return discovery.resource_list("", "v1")
    if path.startswith("/openapi/v3"):
        return openapi.document(path) or _raise()
    parts = path.strip("/").split("/")
    if parts[0] == "apis" and len(parts) == 2:
        return discovery.api_group(parts[1]) or _raise()
    if parts[0] == "apis" and len(parts) == 3:
        return discovery.resource_list(parts[1], parts[2]) or _raise()
    return None


def _raise() -> dict[str, Any]:
    raise _NOT_FOUND


def _parse(path: str) -> Target | None:
    parts = path.strip("/").split("/")
    if parts[:2] == ["api", "v1"]:
        group, version, rest = "", "v1", parts[2:]
    elif parts[0] == "apis" and len(parts) > 3:
        group, version, rest = parts[1], parts[2], parts[3:]
    else:
        return None
    namespace: str | None = None
    if len(rest) >= 3 and rest[0] == "namespaces":
        namespace, rest = rest[1], rest[2:]
    resource = BY_PATH.get((group, version, rest[0])) if rest else None
    if resource is None or len(rest) > 3:
        return None
    if namespace is not None and not resource.namespaced:
        return None
    if not resource.namespaced:
        namespace = ""
    name = rest[1] if len(rest) > 1 else None
    subresource = rest[2] if len(rest) > 2 else None
    if subresource not in (None, "status", "log", "attach"):
        return None
    if subresource in ("log", "attach") and resource is not PODS:
        return None
    if subresource == "status" and not resource.status_subresource:
        return None
    if name is not None and namespace is None:
        return None
    return Target(resource, namespace, name, subresource)


def _list_kind(resource: Resource) -> dict[str, Any]:
    return {"kind": f"{resource.kind}List", "apiVersion": resource.api_version}


def _collection(cluster: Cluster, request: Request, target: Target) -> None:
    resource = target.resource
    namespace = target.namespace or None
    if request.method == "GET":
        matches = matcher(request.query.get("labelSelector"), request.query.get("fieldSelector"))
        if request.flag("watch"):
            if "sendInitialEvents" in request.query:
                raise watch_list_forbidden()
            lines = open_watch(
                cluster,
                resource,
                namespace,
                matches,
                request.query.get("resourceVersion"),
                bookmarks=request.flag("allowWatchBookmarks"),
                timeout=request.integer("timeoutSeconds"),
            )
            request.stream("application/json", lines)
            return
        items, version = cluster.store.list(resource, namespace, matches)
        body = {**_list_kind(resource), "metadata": {"resourceVersion": str(version)}}
        request.send_json(200, {**body, "items": items})
    elif request.method == "POST":
        if target.namespace is None:
            raise _NOT_FOUND
        obj = _object(request)
        given = (obj.get("metadata") or {}).get("namespace")
        if resource.namespaced and given and given != target.namespace:
            raise bad_request(
                "the namespace of the provided object does not match the namespace sent on "
                "the request"
            )
        validate(resource, obj)
        if request.query.get("dryRun"):
            request.send_json(201, obj)
            return
        request.send_json(201, cluster.create(resource, target.namespace, obj))
    elif request.method == "DELETE" and target.namespace is not None:
        matches = matcher(request.query.get("labelSelector"), request.query.get("fieldSelector"))
        items, _ = cluster.store.list(resource, namespace, matches)
        policy, grace = _delete_options(request)
        deleted = [
            cluster.delete(
                resource,
                item["metadata"].get("namespace", ""),
                item["metadata"]["name"],
                policy,
                grace,
            )
            for item in items
        ]
        _, version = cluster.store.list(resource, namespace, lambda _obj: False)
        body = {**_list_kind(resource), "metadata": {"resourceVersion": str(version)}}
        request.send_json(200, {**body, "items": deleted})
    else:
        raise ApiError(
            405, "MethodNotAllowed", f"the server does not allow this method on {resource.plural}"
        )


def _update(cluster: Cluster, target: Target, new: dict[str, Any]) -> dict[str, Any]:
    """A PUT or a patched object: checked, validated, then stored (409 when stale)."""
    resource, namespace, name = target.resource, target.namespace or "", target.name or ""
    with cluster.store.lock:
        old = cluster.store.get(resource, namespace, name)
        if target.subresource is None:
            check_update(resource, old, new)
        validate(resource, new)
        return cluster.store.replace(resource, namespace, name, new, subresource=target.subresource)


def _object(request: Request) -> dict[str, Any]:
    body = request.body()
    if not isinstance(body, dict):
        raise bad_request("the request body must be an object")
    return body


def _delete_options(request: Request) -> tuple[str | None, int | None]:
    body = request.body() or {}
    policy = body.get("propagationPolicy") or request.query.get("propagationPolicy")
    if body.get("orphanDependents") is True or request.query.get("orphanDependents") == "true":
        policy = "Orphan"
    grace = body.get("gracePeriodSeconds", request.integer("gracePeriodSeconds"))
    if policy not in (None, "Orphan", "Background", "Foreground"):
        raise bad_request(f"unknown propagationPolicy {policy!r}")
    return policy, grace


def _item(cluster: Cluster, request: Request, target: Target) -> None:
    resource, namespace, name = target.resource, target.namespace or "", target.name or ""
    store = cluster.store
    if target.subresource == "log":
        if request.method != "GET":
            raise ApiError(405, "MethodNotAllowed", "pods/log answers GET only")
        pod_log(cluster, request, namespace, name)
        return
    if target.subresource == "attach":
        if request.method not in ("GET", "POST"):
            raise ApiError(405, "MethodNotAllowed", "pods/attach answers GET and POST only")
        pod_attach(cluster, request, namespace, name)
        return
    if request.method == "GET":
        request.send_json(200, store.get(resource, namespace, name))
    elif request.method == "PUT":
        obj = _object(request)
        if (obj.get("metadata") or {}).get("name") not in (None, name):
            raise bad_request("the name of the object does not match the name on the URL")
        obj.setdefault("metadata", {})["name"] = name
        request.send_json(200, _update(cluster, target, obj))
    elif request.method == "PATCH":
        patch = request.body()
        with store.lock:
            old = store.get(resource, namespace, name)
            new = apply_patch(request.content_type, old, patch)
            metadata = patch.get("metadata") if isinstance(patch, dict) else None
            if not (metadata or {}).get("resourceVersion"):
                # A patch is unconditional unless it names the version it applies to.
                new.setdefault("metadata", {})["resourceVersion"] = old["metadata"][
                    "resourceVersion"
                ]
            updated = _update(cluster, target, new)
        request.send_json(200, updated)
    elif request.method == "DELETE":
        if resource is NAMESPACES and name in ("default", "kube-system", "kube-public"):
            raise ApiError(403, "Forbidden", f'namespace "{name}" may not be deleted')
        policy, grace = _delete_options(request)
        request.send_json(200, cluster.delete(resource, namespace, name, policy, grace))
    else:
        raise ApiError(405, "MethodNotAllowed", "method not allowed")
