"""A watch of the build Jobs and their pods: what the builds wait on, rather than polling.

Two streams (Jobs, pods) in the builds namespace, selected by the build labels. Each lists
once, records the list's ``resourceVersion`` and watches from it with
``allowWatchBookmarks``, recording the version of every event and bookmark, so that a stream
that ends (its ``timeoutSeconds``, or a dropped connection) resumes where it was, after a
backoff that grows while reconnecting fails. A ``410 Gone`` (as the HTTP status or as an ERROR
event: the recorded version was compacted away) re-lists and resumes from the new list.
The official client's ``Watch`` does not re-list by itself, hence this loop of our own.

What was seen is kept by name; each change wakes whoever waits (``wait``).
"""

from __future__ import annotations

import contextlib
import json
import threading
import time
from collections.abc import Callable, Iterator
from typing import Any, TypeVar

import structlog
from kubernetes import client
from kubernetes.client.rest import ApiException

log = structlog.get_logger(__name__)

Obj = dict[str, Any]
T = TypeVar("T")

GONE = 410
# The server ends each watch after this long (a fresh one starts from the recorded version);
# the client gives up reading when nothing, not even a bookmark, came for longer.
WATCH_SECONDS = 240
_READ_TIMEOUT = WATCH_SECONDS + 60
_FIRST_BACKOFF, _LONGEST_BACKOFF = 0.1, 10.0


class _Gone(Exception):  # noqa: N818 - the API's word
    """The recorded resourceVersion is too old: list again."""


class _Stream:
    """One resource's list-then-watch loop and what it saw."""

    def __init__(
        self, owner: BuildWatch, kind: str, list_call: Callable[..., Any], namespace: str
    ) -> None:
        self.owner = owner
        self.kind = kind
        self.list_call = list_call
        self.namespace = namespace
        self.objects: dict[str, Obj] = {}
        self.version: str | None = None
        self.synced = threading.Event()
        self.response: Any = None

    def run(self) -> None:
        backoff = _FIRST_BACKOFF
        while not self.owner.stopping.is_set():
            try:
                if self.version is None:
                    self._list()
                for event in self._events():
                    if self.owner.stopping.is_set():
                        return
                    self._apply(event)
                    backoff = _FIRST_BACKOFF
            except _Gone:
                self.owner.relists += 1
                log.info("build watch expired (410 Gone): listing again", kind=self.kind)
                self.version = None
                continue
            except Exception as exc:  # the connection dropped, or the API is away
                if self.owner.stopping.is_set():
                    return
                self.owner.reconnects += 1
                log.info(
                    "build watch interrupted; reconnecting",
                    kind=self.kind,
                    error=str(exc)[:200],
                    backoff=backoff,
                )
                self.owner.stopping.wait(backoff)
                backoff = min(backoff * 2, _LONGEST_BACKOFF)

    def _list(self) -> None:
        response = self.list_call(
            self.namespace,
            label_selector=self.owner.selector,
            _preload_content=False,
            _request_timeout=(10, 60),
        )
        body = json.loads(response.data)
        with self.owner.changed:
            self.objects = {item["metadata"]["name"]: item for item in body.get("items") or []}
            self.version = body["metadata"]["resourceVersion"]
            self.owner.generation += 1
            self.owner.changed.notify_all()
        self.synced.set()

    def _events(self) -> Iterator[Obj]:
        try:
            response = self.list_call(
                self.namespace,
                label_selector=self.owner.selector,
                watch=True,
                resource_version=self.version,
                allow_watch_bookmarks=True,
                timeout_seconds=WATCH_SECONDS,
                _preload_content=False,
                _request_timeout=(10, _READ_TIMEOUT),
            )
        except ApiException as exc:
            if exc.status == GONE:
                raise _Gone from exc
            raise
        self.response = response
        try:
            buffer = b""
            for chunk in response.stream(amt=None, decode_content=False):
                buffer += chunk
                *lines, buffer = buffer.split(b"\n")
                for line in lines:
                    if line.strip():
                        yield json.loads(line)
        finally:
            self.response = None
            response.release_conn()

    def _apply(self, event: Obj) -> None:
        kind, obj = event.get("type"), event.get("object") or {}
        if kind == "ERROR":
            if obj.get("code") == GONE:
                raise _Gone
            raise ApiException(status=obj.get("code"), reason=obj.get("message"))
        version = (obj.get("metadata") or {}).get("resourceVersion")
        with self.owner.changed:
            name = (obj.get("metadata") or {}).get("name")
            if kind in ("ADDED", "MODIFIED") and name:
                self.objects[name] = obj
            elif kind == "DELETED" and name:
                self.objects.pop(name, None)
            if version:
                self.version = version
            if kind != "BOOKMARK":
                self.owner.generation += 1
                self.owner.changed.notify_all()


class BuildWatch:
    """Jobs and pods of the builds namespace with ``selector``, as the watch last saw them."""

    def __init__(self, api: client.ApiClient, namespace: str, selector: str) -> None:
        self.selector = selector
        self.changed = threading.Condition()
        self.stopping = threading.Event()
        # How often a stream re-listed after 410 Gone, and reconnected after a drop.
        self.relists = 0
        self.reconnects = 0
        # Counts the changes seen (lists and events), for waiting on the next one.
        self.generation = 0
        batch, core = client.BatchV1Api(api), client.CoreV1Api(api)
        self._jobs = _Stream(self, "jobs", batch.list_namespaced_job, namespace)
        self._pods = _Stream(self, "pods", core.list_namespaced_pod, namespace)
        self._threads = [
            threading.Thread(target=stream.run, name=f"build-watch-{stream.kind}", daemon=True)
            for stream in (self._jobs, self._pods)
        ]

    def start(self) -> BuildWatch:
        for thread in self._threads:
            thread.start()
        return self

    def synced(self, timeout: float) -> bool:
        """Whether both streams have listed once (within ``timeout`` seconds)."""
        deadline = time.monotonic() + timeout
        return all(
            stream.synced.wait(max(0.0, deadline - time.monotonic()))
            for stream in (self._jobs, self._pods)
        )

    def stop(self) -> None:
        self.stopping.set()
        for stream in (self._jobs, self._pods):
            response = stream.response
            if response is not None:
                with contextlib.suppress(Exception):  # already closed is as good
                    response.shutdown()
        with self.changed:
            self.changed.notify_all()
        for thread in self._threads:
            thread.join(5)

    def job(self, name: str) -> Obj | None:
        with self.changed:
            return self._jobs.objects.get(name)

    def jobs(self) -> list[Obj]:
        with self.changed:
            return list(self._jobs.objects.values())

    def pods_of(self, job_name: str) -> list[Obj]:
        with self.changed:
            return [
                pod
                for pod in self._pods.objects.values()
                if (pod["metadata"].get("labels") or {}).get("batch.kubernetes.io/job-name")
                == job_name
            ]

    def wait(self, probe: Callable[[], T | None], timeout: float) -> T | None:
        """``probe()`` once it answers something (re-asked at each change the watch sees,
        and at least every ``timeout`` seconds' end), or None after ``timeout``."""
        deadline = time.monotonic() + timeout
        with self.changed:
            while True:
                value = probe()
                if value is not None or self.stopping.is_set():
                    return value
                left = deadline - time.monotonic()
                if left <= 0:
                    return None
                self.changed.wait(left)
