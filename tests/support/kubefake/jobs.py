"""The Job controller (batch/v1, as 1.31 behaves) and the TTL-after-finished controller.

A Job gets pods ``<job>-<random>`` from its template, labelled with its name and uid and owned
by it; a failed pod is replaced after a back-off until ``backoffLimit`` failures are exceeded;
``activeDeadlineSeconds`` kills its pods. The end is reported in two steps, as since 1.31: first
``SuccessCriteriaMet`` or ``FailureTarget``, and ``Complete`` or ``Failed`` only once none of
its pods is still running.
"""

from __future__ import annotations

import contextlib
import copy
import time
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from . import podstatus
from .admission import CONTROLLER_UID_LABELS
from .resources import JOBS, PODS
from .store import now

if TYPE_CHECKING:
    from .cluster import Cluster

Job = dict[str, Any]
_DEADLINE = ("DeadlineExceeded", "Job was active longer than specified deadline")
_BACKOFF = ("BackoffLimitExceeded", "Job has reached the specified backoff limit")
_COMPLETIONS = ("CompletionsReached", "Reached expected number of succeeded pods")


@dataclass
class _Tracking:
    """What the controller remembers of a Job between passes (Kubernetes keeps it with pod
    finalizers and ``uncountedTerminatedPods``)."""

    ended: dict[str, str] = field(default_factory=dict)  # pod uid → Succeeded | Failed
    last_failure: float = 0.0
    finished_at: float | None = None
    started: float = field(default_factory=time.monotonic)


class JobController:
    def __init__(self, cluster: Cluster) -> None:
        self.cluster = cluster
        self._tracking: dict[str, _Tracking] = {}

    def sync(self) -> None:
        jobs, _ = self.cluster.store.list(JOBS)
        for job in jobs:
            if job["metadata"].get("deletionTimestamp"):
                continue
            tracking = self._tracking.setdefault(job["metadata"]["uid"], _Tracking())
            if _condition(job, "Complete") or _condition(job, "Failed"):
                self._expire(job, tracking)
            else:
                self._sync_job(job, tracking)

    def _pods(self, job: Job) -> list[dict[str, Any]]:
        uid = job["metadata"]["uid"]
        pods, _ = self.cluster.store.list(
            PODS,
            job["metadata"]["namespace"],
            lambda pod: (pod["metadata"].get("labels") or {}).get(CONTROLLER_UID_LABELS[0]) == uid,
        )
        return pods

    def _sync_job(self, job: Job, tracking: _Tracking) -> None:
        spec = job["spec"]
        pods = self._pods(job)
        for pod in pods:
            phase = pod["status"].get("phase")
            if phase in ("Succeeded", "Failed") and pod["metadata"]["uid"] not in tracking.ended:
                tracking.ended[pod["metadata"]["uid"]] = phase
                if phase == "Failed":
                    tracking.last_failure = time.monotonic()
        running = [p for p in pods if not podstatus.terminal(p)]
        active = [p for p in running if not p["metadata"].get("deletionTimestamp")]
        succeeded = sum(1 for phase in tracking.ended.values() if phase == "Succeeded")
        failed = sum(1 for phase in tracking.ended.values() if phase == "Failed")
        status = copy.deepcopy(job.get("status") or {})
        status.setdefault("startTime", now())
        target = _condition(job, "SuccessCriteriaMet") or _condition(job, "FailureTarget")
        new_conditions: list[tuple[str, tuple[str, str]]] = []
        if target is None:
            if succeeded >= spec.get("completions", 1):
                new_conditions.append(("SuccessCriteriaMet", _COMPLETIONS))
            elif failed > spec.get("backoffLimit", 6):
                new_conditions.append(("FailureTarget", _BACKOFF))
            elif _past_deadline(tracking, spec):
                new_conditions.append(("FailureTarget", _DEADLINE))
            if new_conditions:
                for pod in active:
                    self._kill(pod)
            elif not spec.get("suspend"):
                wanted = min(spec.get("parallelism", 1), spec.get("completions", 1) - succeeded)
                pause = self.cluster.settings.pod_backoff_seconds * 2 ** max(0, failed - 1)
                if len(active) < wanted and (
                    failed == 0 or time.monotonic() - tracking.last_failure >= pause
                ):
                    for _ in range(wanted - len(active)):
                        active.append(self._create_pod(job))
        else:
            ending = "Complete" if target["type"] == "SuccessCriteriaMet" else "Failed"
            if not running:
                new_conditions.append((ending, (target["reason"], target["message"])))
                tracking.finished_at = time.monotonic()
                if ending == "Complete":
                    status["completionTime"] = now()
        status["active"] = len(active)
        status["ready"] = sum(
            1
            for p in active
            if any(
                c["type"] == "Ready" and c["status"] == "True"
                for c in p["status"].get("conditions") or []
            )
        )
        status["terminating"] = len(running) - len(active)
        status["succeeded"], status["failed"] = succeeded, failed
        status["uncountedTerminatedPods"] = {}
        for key in ("active", "succeeded", "failed"):
            if status[key] == 0:
                del status[key]
        conditions = status.setdefault("conditions", [])
        for kind, (reason, message) in new_conditions:
            stamp = now()
            conditions.append(
                {
                    "type": kind,
                    "status": "True",
                    "reason": reason,
                    "message": message,
                    "lastProbeTime": stamp,
                    "lastTransitionTime": stamp,
                }
            )
        if not conditions:
            del status["conditions"]

        def write(obj: Job) -> None:
            obj["status"] = status

        self.cluster.store.mutate(
            JOBS, job["metadata"]["namespace"], job["metadata"]["name"], write
        )

    def _create_pod(self, job: Job) -> dict[str, Any]:
        template = copy.deepcopy(job["spec"]["template"])
        metadata = template.get("metadata") or {}
        metadata.pop("name", None)
        metadata["generateName"] = job["metadata"]["name"] + "-"
        metadata["ownerReferences"] = [
            {
                "apiVersion": JOBS.api_version,
                "kind": JOBS.kind,
                "name": job["metadata"]["name"],
                "uid": job["metadata"]["uid"],
                "controller": True,
                "blockOwnerDeletion": True,
            }
        ]
        pod = {"metadata": metadata, "spec": template["spec"]}
        return self.cluster.create(PODS, job["metadata"]["namespace"], pod)

    def _kill(self, pod: dict[str, Any]) -> None:
        with contextlib.suppress(Exception):
            self.cluster.delete(PODS, pod["metadata"]["namespace"], pod["metadata"]["name"])

    def _expire(self, job: Job, tracking: _Tracking) -> None:
        ttl = job["spec"].get("ttlSecondsAfterFinished")
        if ttl is None:
            return
        if tracking.finished_at is None:
            tracking.finished_at = time.monotonic()
        if time.monotonic() - tracking.finished_at >= ttl:
            with contextlib.suppress(Exception):
                self.cluster.delete(
                    JOBS, job["metadata"]["namespace"], job["metadata"]["name"], "Foreground"
                )


def _condition(job: Job, kind: str) -> dict[str, Any] | None:
    for condition in (job.get("status") or {}).get("conditions") or []:
        if condition["type"] == kind and condition["status"] == "True":
            return condition  # type: ignore[no-any-return]
    return None


def _past_deadline(tracking: _Tracking, spec: dict[str, Any]) -> bool:
    deadline = spec.get("activeDeadlineSeconds")
    return deadline is not None and time.monotonic() - tracking.started >= deadline
