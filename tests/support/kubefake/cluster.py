"""The fake cluster: the store, the node's kubelet, the controllers' loop, deletion with its
propagation policies, and the hooks the tests pull (compaction, dropping or expiring watches)."""

from __future__ import annotations

import contextlib
import copy
import itertools
import logging
import threading
import time
from dataclasses import dataclass, field
from typing import Any

from . import podstatus
from .admission import default
from .jobs import JobController
from .kubelet import Kubelet, PodRun, ScriptedKubelet
from .logs import LogBuffer
from .resources import JOBS, NAMESPACES, PODS, RESOURCES, Resource
from .stdin import StdinPipe
from .store import Store, now

_logger = logging.getLogger(__name__)
NODE = "fake-node"
_IDLE_PASS = 0.25
ORPHAN, BACKGROUND, FOREGROUND = "Orphan", "Background", "Foreground"


@dataclass
class Settings:
    """How the fake behaves where a test wants it otherwise."""

    # A watch from a compacted version: "event" answers 200 then an ERROR event carrying a 410
    # Status (what the API server's watch cache does); "http" answers 410 itself.
    gone_as: str = "event"
    bookmark_interval: float = 0.2
    # The pause before a Job retries a failed pod, doubled each failure (10 s in Kubernetes).
    pod_backoff_seconds: float = 0.05
    controller_interval: float = 0.02
    max_history: int = 10_000


@dataclass(eq=False)
class WatchSession:
    """An open watch; the tests' hooks flag it and its stream obeys."""

    drop: threading.Event = field(default_factory=threading.Event)
    expire: threading.Event = field(default_factory=threading.Event)


class Cluster:
    def __init__(self, kubelet: Kubelet | None = None, settings: Settings | None = None) -> None:
        self.settings = settings or Settings()
        self.store = Store(self.settings.max_history)
        self.kubelet: Kubelet = kubelet or ScriptedKubelet()
        self.jobs = JobController(self)
        self.watches: set[WatchSession] = set()
        self._logs: dict[tuple[str, str], LogBuffer] = {}
        self._stdins: dict[tuple[str, str], StdinPipe] = {}
        self._runs: dict[str, tuple[PodRun, threading.Thread]] = {}
        self._ips = itertools.count(2)
        self._stopping = threading.Event()
        self._pod_ended = threading.Event()
        self._loop = threading.Thread(
            target=self._control, name="kubefake-controllers", daemon=True
        )
        for name in ("default", "kube-system", "kube-public"):
            self.create(NAMESPACES, "", {"metadata": {"name": name}})

    def start(self) -> None:
        self._loop.start()

    def stop(self) -> None:
        self._stopping.set()
        self.drop_watches()
        with self.store.changed:
            self.store.changed.notify_all()
        if self._loop.is_alive():
            self._loop.join(10)
        for run, _thread in list(self._runs.values()):
            run.killed.set()
        for _run, thread in list(self._runs.values()):
            thread.join(30)
        self.kubelet.close()

    # -- the tests' hooks ------------------------------------------------------------------

    def compact(self) -> int:
        """Forget the event history: a watch from an older version gets 410 Gone."""
        return self.store.compact()

    def drop_watches(self) -> None:
        """Cut every open watch stream mid-flight, as a lost connection would."""
        with self.store.changed:
            for session in self.watches:
                session.drop.set()
            self.store.changed.notify_all()

    def expire_watches(self) -> None:
        """Compact, then end every open watch with an ERROR event carrying a 410 Status."""
        with self.store.changed:
            self.store.compact()
            for session in self.watches:
                session.expire.set()
            self.store.changed.notify_all()

    # -- objects ---------------------------------------------------------------------------

    def create(self, resource: Resource, namespace: str, obj: dict[str, Any]) -> dict[str, Any]:
        obj = copy.deepcopy(obj)
        obj.pop("status", None)
        for key in ("uid", "resourceVersion", "creationTimestamp", "deletionTimestamp"):
            obj.setdefault("metadata", {}).pop(key, None)
        default(resource, obj)
        return self.store.create(resource, namespace, obj)

    def log(self, pod_uid: str, container: str) -> LogBuffer:
        with self.store.lock:
            return self._logs.setdefault((pod_uid, container), LogBuffer())

    def stdin(self, pod_uid: str, container: dict[str, Any]) -> StdinPipe:
        """The stdin of a container created with ``stdin: true`` (see attach.py)."""
        with self.store.lock:
            key = (pod_uid, container["name"])
            if key not in self._stdins:
                self._stdins[key] = StdinPipe(once=bool(container.get("stdinOnce")))
            return self._stdins[key]

    def delete(
        self,
        resource: Resource,
        namespace: str,
        name: str,
        policy: str | None = None,
        grace_period: int | None = None,
    ) -> dict[str, Any]:
        """DELETE as the API server does it; the answer is the object's last state."""
        with self.store.lock:
            obj = self.store.get(resource, namespace, name)
            if policy is None:
                # batch/v1 Jobs orphan their pods by default, for backward compatibility.
                policy = ORPHAN if resource is JOBS else BACKGROUND
            if resource is NAMESPACES:
                return self._delete_namespace(name)
            if resource is PODS:
                return self._delete_pod(obj, grace_period)
            if policy == FOREGROUND and self._dependents(obj):
                return self.store.mutate(resource, namespace, name, _mark_foreground) or obj
            if policy == ORPHAN:
                self._orphan(obj)
            return self.store.remove(resource, namespace, name)

    def _dependents(self, owner: dict[str, Any]) -> list[dict[str, Any]]:
        uid = owner["metadata"]["uid"]
        pods, _ = self.store.list(
            PODS,
            owner["metadata"].get("namespace"),
            lambda pod: any(
                ref.get("uid") == uid for ref in pod["metadata"].get("ownerReferences") or []
            ),
        )
        return pods

    def _orphan(self, owner: dict[str, Any]) -> None:
        uid = owner["metadata"]["uid"]

        def drop_reference(pod: dict[str, Any]) -> None:
            refs = [r for r in pod["metadata"].get("ownerReferences") or [] if r.get("uid") != uid]
            if refs:
                pod["metadata"]["ownerReferences"] = refs
            else:
                pod["metadata"].pop("ownerReferences", None)

        for pod in self._dependents(owner):
            self.store.mutate(
                PODS, pod["metadata"]["namespace"], pod["metadata"]["name"], drop_reference
            )

    def _delete_pod(self, pod: dict[str, Any], grace_period: int | None) -> dict[str, Any]:
        namespace, name, uid = (pod["metadata"][k] for k in ("namespace", "name", "uid"))
        run = self._runs.get(uid)
        if run is None or podstatus.terminal(pod) or grace_period == 0:
            if run is not None:
                run[0].killed.set()
            return self.store.remove(PODS, namespace, name)

        def mark(obj: dict[str, Any]) -> None:
            obj["metadata"].setdefault("deletionTimestamp", now())
            obj["metadata"].setdefault(
                "deletionGracePeriodSeconds", obj["spec"].get("terminationGracePeriodSeconds", 30)
            )

        marked = self.store.mutate(PODS, namespace, name, mark) or pod
        run[0].killed.set()
        return marked

    def _delete_namespace(self, name: str) -> dict[str, Any]:
        for resource in RESOURCES:
            if not resource.namespaced:
                continue
            items, _ = self.store.list(resource, name)
            for item in items:
                if resource is PODS:
                    run = self._runs.get(item["metadata"]["uid"])
                    if run is not None:
                        run[0].killed.set()
                with contextlib.suppress(Exception):
                    self.store.remove(resource, name, item["metadata"]["name"])
        return self.store.remove(NAMESPACES, "", name)

    # -- the controllers -------------------------------------------------------------------

    def _control(self) -> None:
        """The controllers' passes: after each change, and at least every ``_IDLE_PASS``
        seconds for what time alone decides (deadlines, back-off, TTL)."""
        seen, last_pass = -1, 0.0
        while not self._stopping.is_set():
            with self.store.changed:
                self.store.changed.wait(self.settings.controller_interval)
                version = self.store.resource_version
            if self._stopping.is_set():
                return
            idle = time.monotonic() - last_pass < _IDLE_PASS
            if version == seen and idle and not self._pod_ended.is_set():
                continue
            seen, last_pass = version, time.monotonic()
            self._pod_ended.clear()
            try:
                # Jobs first: a deleted pod that ended is counted before it is removed (what the
                # Job controller's pod finalizer ensures in Kubernetes).
                self.jobs.sync()
                self._sync_pods()
                self._collect_garbage()
            except Exception:  # a controller never dies of one bad object
                _logger.exception("the fake's controllers failed a pass")

    def _sync_pods(self) -> None:
        pods, _ = self.store.list(PODS)
        for pod in pods:
            uid = pod["metadata"]["uid"]
            if uid not in self._runs and not podstatus.terminal(pod):
                if pod["metadata"].get("deletionTimestamp"):
                    continue
                if pod["spec"].get("nodeName") not in (None, "", NODE):
                    continue  # bound to a node that does not exist: it stays Pending
                self._bind(pod)
            elif uid in self._runs and pod["metadata"].get("deletionTimestamp"):
                run, thread = self._runs[uid]
                run.killed.set()
                if not thread.is_alive():
                    with contextlib.suppress(Exception):
                        self.store.remove(
                            PODS, pod["metadata"]["namespace"], pod["metadata"]["name"]
                        )

    def _bind(self, pod: dict[str, Any]) -> None:
        address = f"10.244.0.{next(self._ips) % 250 + 2}"
        bound = self.store.mutate(
            PODS,
            pod["metadata"]["namespace"],
            pod["metadata"]["name"],
            lambda obj: podstatus.initial_status(obj, NODE, address),
        )
        if bound is None:
            return
        run = PodRun(self, bound)
        thread = threading.Thread(
            target=self._run_pod, args=(run,), name=f"kubelet-{run.name}", daemon=True
        )
        self._runs[run.uid] = (run, thread)
        thread.start()

    def _run_pod(self, run: PodRun) -> None:
        try:
            self.kubelet.run(run)
        except Exception:
            _logger.exception("the kubelet failed pod %s", run.name)
        finally:
            run.kill_remaining()
            for container in run.init_containers + run.containers:
                self.log(run.uid, container["name"]).close()
                self.stdin(run.uid, container).close()
            self._pod_ended.set()
            with self.store.changed:
                self.store.changed.notify_all()

    def _collect_garbage(self) -> None:
        """Pods whose owner is gone go (Background); a Job deleted in the foreground goes once
        its pods are gone."""
        jobs, _ = self.store.list(JOBS)
        live = {job["metadata"]["uid"] for job in jobs}
        pods, _ = self.store.list(PODS)
        for pod in pods:
            owners = [
                r for r in pod["metadata"].get("ownerReferences") or [] if r.get("kind") == "Job"
            ]
            gone = owners and all(ref["uid"] not in live for ref in owners)
            if gone and not pod["metadata"].get("deletionTimestamp"):
                with contextlib.suppress(Exception):
                    self.delete(PODS, pod["metadata"]["namespace"], pod["metadata"]["name"])
        for job in jobs:
            if "foregroundDeletion" not in (job["metadata"].get("finalizers") or []):
                continue
            dependents = self._dependents(job)
            for pod in dependents:
                if not pod["metadata"].get("deletionTimestamp"):
                    with contextlib.suppress(Exception):
                        self.delete(PODS, pod["metadata"]["namespace"], pod["metadata"]["name"])
            if not dependents:
                with contextlib.suppress(Exception):
                    self.store.remove(JOBS, job["metadata"]["namespace"], job["metadata"]["name"])


def _mark_foreground(obj: dict[str, Any]) -> None:
    obj["metadata"].setdefault("deletionTimestamp", now())
    obj["metadata"]["deletionGracePeriodSeconds"] = 0
    finalizers = obj["metadata"].setdefault("finalizers", [])
    if "foregroundDeletion" not in finalizers:
        finalizers.append("foregroundDeletion")
