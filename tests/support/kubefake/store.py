"""The object store: every object by type, namespace and name; one global resourceVersion
that each write increases; a bounded history of watch events that the tests can compact.

One lock guards it all; ``changed`` is notified on every write so watches and controllers wake.
"""

from __future__ import annotations

import bisect
import copy
import secrets
import threading
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from .errors import already_exists, bad_request, conflict, not_found
from .resources import NAMESPACES, Resource

Object = dict[str, Any]
_NAME_ALPHABET = "bcdfghjklmnpqrstvwxz2456789"


def now() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def random_suffix(length: int = 5) -> str:
    return "".join(secrets.choice(_NAME_ALPHABET) for _ in range(length))


@dataclass(frozen=True)
class Event:
    resource_version: int
    type: str  # ADDED, MODIFIED, DELETED
    resource: Resource
    object: Object
    # The state before a MODIFIED, so a watch with a selector can tell an object that left
    # (or entered) its selection.
    previous: Object | None = None


Events = list[Event]


class Store:
    def __init__(self, max_history: int = 10_000) -> None:
        self.lock = threading.RLock()
        self.changed = threading.Condition(self.lock)
        self.resource_version = 1
        self.max_history = max_history
        self.history: Events = []
        self._history_versions: list[int] = []
        # Events at or below this version are forgotten: a watch from before it gets 410.
        self.compacted = 1
        self._objects: dict[Resource, dict[tuple[str, str], Object]] = {}

    # -- reading ---------------------------------------------------------------------------

    def get(self, resource: Resource, namespace: str, name: str) -> Object:
        with self.lock:
            obj = self._objects.get(resource, {}).get((namespace, name))
            if obj is None:
                raise not_found(resource, name)
            return copy.deepcopy(obj)

    def find(self, resource: Resource, namespace: str, name: str) -> Object | None:
        with self.lock:
            obj = self._objects.get(resource, {}).get((namespace, name))
            return copy.deepcopy(obj) if obj is not None else None

    def list(
        self,
        resource: Resource,
        namespace: str | None = None,
        matches: Callable[[Object], bool] = lambda _obj: True,
    ) -> tuple[list[Object], int]:
        with self.lock:
            items = [
                copy.deepcopy(obj)
                for (ns, _name), obj in sorted(self._objects.get(resource, {}).items())
                if (namespace is None or ns == namespace) and matches(obj)
            ]
            return items, self.resource_version

    def events_after(self, resource_version: int) -> Events:
        """The kept events later than ``resource_version`` (the caller checks compaction)."""
        with self.lock:
            start = bisect.bisect_right(self._history_versions, resource_version)
            return self.history[start:]

    # -- writing ---------------------------------------------------------------------------

    def _record(
        self, kind: str, resource: Resource, obj: Object, previous: Object | None = None
    ) -> None:
        event = Event(self.resource_version, kind, resource, copy.deepcopy(obj), previous)
        self.history.append(event)
        self._history_versions.append(self.resource_version)
        if len(self.history) > self.max_history:
            dropped = len(self.history) - self.max_history
            self.compacted = self.history[dropped - 1].resource_version
            del self.history[:dropped]
            del self._history_versions[:dropped]
        self.changed.notify_all()

    def _next_version(self) -> str:
        self.resource_version += 1
        return str(self.resource_version)

    def compact(self) -> int:
        """Forget every event so far, as etcd's compaction does; return the compacted
        version (a watch from any version before it now gets 410 Gone)."""
        with self.lock:
            self.compacted = self.resource_version
            self.history.clear()
            self._history_versions.clear()
            self.changed.notify_all()
            return self.compacted

    def create(self, resource: Resource, namespace: str, obj: Object) -> Object:
        with self.lock:
            obj = copy.deepcopy(obj)
            metadata = obj.setdefault("metadata", {})
            if not metadata.get("name"):
                prefix = metadata.get("generateName")
                if not prefix:
                    raise bad_request("name or generateName is required")
                metadata["name"] = prefix + random_suffix()
            name = metadata["name"]
            table = self._objects.setdefault(resource, {})
            if (namespace, name) in table:
                raise already_exists(resource, name)
            if resource.namespaced:
                if ("", namespace) not in self._objects.get(NAMESPACES, {}):
                    raise not_found(NAMESPACES, namespace)
                metadata["namespace"] = namespace
            else:
                metadata.pop("namespace", None)
            metadata.setdefault("uid", str(uuid.uuid4()))
            metadata["creationTimestamp"] = now()
            metadata.pop("deletionTimestamp", None)
            if resource.generation:
                metadata["generation"] = 1
            obj["apiVersion"], obj["kind"] = resource.api_version, resource.kind
            metadata["resourceVersion"] = self._next_version()
            table[(namespace, name)] = obj
            self._record("ADDED", resource, obj)
            return copy.deepcopy(obj)

    def replace(
        self,
        resource: Resource,
        namespace: str,
        name: str,
        new: Object,
        *,
        subresource: str | None = None,
    ) -> Object:
        """A PUT: the whole object (or its status), refused with 409 Conflict when it carries
        a resourceVersion other than the current one."""
        with self.lock:
            old = self._objects.get(resource, {}).get((namespace, name))
            if old is None:
                raise not_found(resource, name)
            given = (new.get("metadata") or {}).get("resourceVersion")
            if given and given != old["metadata"]["resourceVersion"]:
                raise conflict(resource, name)
            if subresource == "status":
                merged = copy.deepcopy(old)
                merged["status"] = copy.deepcopy(new.get("status") or {})
            else:
                merged = copy.deepcopy(new)
                metadata = merged.setdefault("metadata", {})
                for key in ("uid", "creationTimestamp", "namespace", "deletionTimestamp"):
                    if key in old["metadata"]:
                        metadata[key] = old["metadata"][key]
                metadata["name"] = name
                if resource.status_subresource:
                    merged["status"] = copy.deepcopy(old.get("status"))
                    if merged["status"] is None:
                        del merged["status"]
                if resource.generation:
                    changed = merged.get("spec") != old.get("spec")
                    metadata["generation"] = old["metadata"]["generation"] + int(changed)
            merged["apiVersion"], merged["kind"] = resource.api_version, resource.kind
            merged["metadata"]["resourceVersion"] = old["metadata"]["resourceVersion"]
            if merged == old:
                return copy.deepcopy(old)
            merged["metadata"]["resourceVersion"] = self._next_version()
            self._objects[resource][(namespace, name)] = merged
            self._record("MODIFIED", resource, merged, old)
            return copy.deepcopy(merged)

    def mutate(
        self, resource: Resource, namespace: str, name: str, change: Callable[[Object], None]
    ) -> Object | None:
        """A controller's write: ``change`` edits a copy in place; nothing is written (and no
        event sent) when it changed nothing. None when the object is gone."""
        with self.lock:
            old = self._objects.get(resource, {}).get((namespace, name))
            if old is None:
                return None
            new = copy.deepcopy(old)
            change(new)
            if new == old:
                return copy.deepcopy(old)
            new["metadata"]["resourceVersion"] = self._next_version()
            self._objects[resource][(namespace, name)] = new
            self._record("MODIFIED", resource, new, old)
            return copy.deepcopy(new)

    def remove(self, resource: Resource, namespace: str, name: str) -> Object:
        """Take the object out; the DELETED event carries its final state."""
        with self.lock:
            obj = self._objects.get(resource, {}).pop((namespace, name), None)
            if obj is None:
                raise not_found(resource, name)
            obj["metadata"]["resourceVersion"] = self._next_version()
            self._record("DELETED", resource, obj)
            return copy.deepcopy(obj)
