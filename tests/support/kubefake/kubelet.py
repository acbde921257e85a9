"""The node side: a kubelet runs each pod bound to the fake node and reports its status.

``Kubelet`` is what the cluster calls; ``PodRun`` is what a kubelet gets for one pod (its spec,
a way to write its status and logs, and ``killed``, set when the pod is deleted or its Job
kills it). ``ScriptedKubelet`` runs nothing: each pod does what the test planned for it, which
makes the API semantics fast to test. ``docker_kubelet.DockerKubelet`` runs containers for real.
"""

from __future__ import annotations

import threading
from collections import defaultdict, deque
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Protocol

from . import podstatus
from .logs import LogBuffer
from .resources import PODS
from .stdin import StdinPipe
from .store import now

if TYPE_CHECKING:
    from .cluster import Cluster

KILLED_EXIT_CODE = 137


class PodRun:
    """One pod as its kubelet sees it."""

    def __init__(self, cluster: Cluster, pod: dict[str, Any]) -> None:
        self.cluster = cluster
        self.pod = pod
        self.namespace: str = pod["metadata"]["namespace"]
        self.name: str = pod["metadata"]["name"]
        self.uid: str = pod["metadata"]["uid"]
        self.killed = threading.Event()

    @property
    def init_containers(self) -> list[dict[str, Any]]:
        return list(self.pod["spec"].get("initContainers") or [])

    @property
    def containers(self) -> list[dict[str, Any]]:
        return list(self.pod["spec"]["containers"])

    def update(self, change: Callable[[dict[str, Any]], None]) -> None:
        def guarded(pod: dict[str, Any]) -> None:
            if pod["metadata"]["uid"] == self.uid:
                change(pod)

        self.cluster.store.mutate(PODS, self.namespace, self.name, guarded)

    def set_state(self, container: str, state: dict[str, Any], image_id: str = "") -> None:
        self.update(lambda pod: podstatus.set_state(pod, container, state, image_id))

    def log(self, container: str) -> LogBuffer:
        return self.cluster.log(self.uid, container)

    def stdin(self, container: str) -> StdinPipe:
        """The container's stdin, as attach sessions fill it (``stdin: true``)."""
        spec = next(c for c in self.containers + self.init_containers if c["name"] == container)
        return self.cluster.stdin(self.uid, spec)

    def wait(self, seconds: float) -> bool:
        """Sleep ``seconds``; True when the pod was killed meanwhile."""
        return self.killed.wait(seconds)

    def kill_remaining(self) -> None:
        """Every container not yet ended ends as killed (the pod then is Failed)."""

        def change(pod: dict[str, Any]) -> None:
            status = pod.get("status") or {}
            for group in ("initContainerStatuses", "containerStatuses"):
                for entry in status.get(group) or []:
                    if "terminated" not in entry["state"]:
                        started = (entry["state"].get("running") or {}).get("startedAt")
                        entry["state"] = podstatus.terminated(
                            KILLED_EXIT_CODE, "Error", started_at=started
                        )
                        entry["ready"] = entry["started"] = False
            podstatus.refresh(pod)

        self.update(change)


class Kubelet(Protocol):
    def run(self, pod: PodRun) -> None:
        """Run the pod until its containers end or ``pod.killed`` is set, reporting status."""

    def close(self) -> None:
        """Release what the kubelet holds (containers, folders)."""


@dataclass
class Outcome:
    """What a scripted pod does: wait ``pending`` seconds in ContainerCreating (or, with
    ``image_missing``, go ErrImagePull then ImagePullBackOff and stay there), then run for
    ``seconds`` (or until ``ScriptedKubelet.release``, with ``hold``), printing ``logs``, and
    end with ``exit_code`` (``reason`` e.g. "OOMKilled", else Completed or Error) and the
    termination ``message``. ``containers`` overrides the logs and the end for the containers
    it names (a referee and its agents, say)."""

    exit_code: int = 0
    reason: str | None = None
    logs: str = ""
    pending: float = 0.0
    seconds: float = 0.0
    hold: bool = False
    image_missing: bool = False
    message: str | None = None
    # Once running, read the first container's stdin until it closes (as Kaniko does with
    # ``tar://stdin``), before the logs; what came is in ``ScriptedKubelet.stdin_received``.
    reads_stdin: bool = False
    containers: dict[str, Outcome] = field(default_factory=dict)

    def of(self, container: str) -> Outcome:
        return self.containers.get(container, self)


@dataclass
class ScriptedKubelet:
    """Pods do what the test planned: ``plan("job-name", Outcome(...), ...)`` queues outcomes
    for the pods of a Job (or a bare pod's name), in order; others get ``default``."""

    default: Outcome = field(default_factory=Outcome)
    line_interval: float = 0.01
    _plans: dict[str, deque[Outcome]] = field(default_factory=lambda: defaultdict(deque))
    _gates: dict[str, threading.Event] = field(default_factory=lambda: defaultdict(threading.Event))
    started: list[str] = field(default_factory=list)
    stdin_received: dict[str, bytes] = field(default_factory=dict)

    def plan(self, owner: str, *outcomes: Outcome) -> None:
        self._plans[owner].extend(outcomes)

    def release(self, pod_name: str) -> None:
        """Let a pod whose outcome has ``hold`` finish."""
        self._gates[pod_name].set()

    def _outcome(self, pod: PodRun) -> Outcome:
        labels = pod.pod["metadata"].get("labels") or {}
        for key in (labels.get("batch.kubernetes.io/job-name"), pod.name):
            if key and self._plans.get(key):
                return self._plans[key].popleft()
        return self.default

    def run(self, pod: PodRun) -> None:
        outcome = self._outcome(pod)
        self.started.append(pod.name)
        for container in pod.init_containers:
            pod.set_state(container["name"], podstatus.running())
            pod.set_state(container["name"], podstatus.terminated(0))
        names = [c["name"] for c in pod.containers]
        if pod.wait(outcome.pending):
            return
        if outcome.image_missing:
            for name in names:
                pod.set_state(name, podstatus.waiting("ErrImagePull", "image not found"))
            if pod.wait(0.05):
                return
            for name in names:
                pod.set_state(name, podstatus.waiting("ImagePullBackOff", "Back-off pulling image"))
            pod.killed.wait()
            return
        started = now()
        for name in names:
            pod.set_state(name, podstatus.running(started))
        if outcome.reads_stdin:
            received = pod.stdin(names[0]).read_all(stop=pod.killed)
            if pod.killed.is_set():
                return
            self.stdin_received[pod.name] = received
        written = {name: outcome.of(name).logs.splitlines(keepends=True) for name in names}
        for index in range(max((len(lines) for lines in written.values()), default=0)):
            for name, lines in written.items():
                if index < len(lines):
                    pod.log(name).write(lines[index].encode())
            if pod.wait(self.line_interval):
                return
        if outcome.hold:
            gate = self._gates[pod.name]
            while not gate.wait(0.02):
                if pod.killed.is_set():
                    return
        elif pod.wait(outcome.seconds):
            return
        for name in names:
            end = outcome.of(name)
            pod.set_state(
                name,
                podstatus.terminated(
                    end.exit_code, end.reason, started_at=started, message=end.message
                ),
            )

    def close(self) -> None:
        for gate in self._gates.values():
            gate.set()
