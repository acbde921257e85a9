"""A pod's status as the kubelet reports it: container states (waiting, running,
terminated), the phase they add up to, and the pod's conditions."""

from __future__ import annotations

from typing import Any

from .store import now

Pod = dict[str, Any]


def waiting(reason: str, message: str | None = None) -> dict[str, Any]:
    state: dict[str, Any] = {"reason": reason}
    if message:
        state["message"] = message
    return {"waiting": state}


def running(started_at: str | None = None) -> dict[str, Any]:
    return {"running": {"startedAt": started_at or now()}}


def terminated(
    exit_code: int,
    reason: str | None = None,
    *,
    started_at: str | None = None,
    message: str | None = None,
) -> dict[str, Any]:
    state: dict[str, Any] = {
        "exitCode": exit_code,
        "reason": reason or ("Completed" if exit_code == 0 else "Error"),
        "startedAt": started_at or now(),
        "finishedAt": now(),
    }
    if message:
        state["message"] = message
    return {"terminated": state}


def initial_status(pod: Pod, node: str, pod_ip: str) -> None:
    """A pod just bound to the node: every container waiting to be created."""
    spec = pod["spec"]
    spec["nodeName"] = node
    status = pod.setdefault("status", {})
    status.update({"phase": "Pending", "hostIP": "10.0.0.1", "podIP": pod_ip, "startTime": now()})
    status["podIPs"] = [{"ip": pod_ip}]
    init = bool(spec.get("initContainers"))
    if init:
        status["initContainerStatuses"] = [
            _container_status(c, waiting("PodInitializing")) for c in spec["initContainers"]
        ]
        status["initContainerStatuses"][0]["state"] = waiting("ContainerCreating")
    status["containerStatuses"] = [
        _container_status(c, waiting("PodInitializing" if init else "ContainerCreating"))
        for c in spec["containers"]
    ]
    refresh(pod)


def _container_status(container: dict[str, Any], state: dict[str, Any]) -> dict[str, Any]:
    return {
        "name": container["name"],
        "image": container["image"],
        "imageID": "",
        "ready": False,
        "restartCount": 0,
        "started": False,
        "state": state,
        "lastState": {},
    }


def container_status(pod: Pod, name: str) -> dict[str, Any] | None:
    status = pod.get("status") or {}
    for group in ("initContainerStatuses", "containerStatuses"):
        for entry in status.get(group) or []:
            if entry["name"] == name:
                return entry  # type: ignore[no-any-return]
    return None


def set_state(pod: Pod, name: str, state: dict[str, Any], image_id: str = "") -> None:
    entry = container_status(pod, name)
    if entry is None:
        return
    entry["state"] = state
    entry["ready"] = "running" in state
    entry["started"] = "running" in state
    if image_id:
        entry["imageID"] = image_id
    if "running" in state or "terminated" in state:
        entry["containerID"] = (
            entry.get("containerID") or f"containerd://{pod['metadata']['uid']}-{name}"
        )
    refresh(pod)


def terminal(pod: Pod) -> bool:
    return (pod.get("status") or {}).get("phase") in ("Succeeded", "Failed")


def refresh(pod: Pod) -> None:
    """Recompute the phase and conditions from the container states (restartPolicy Never)."""
    status = pod["status"]
    if status.get("phase") in ("Succeeded", "Failed"):
        return
    inits = status.get("initContainerStatuses") or []
    mains = status.get("containerStatuses") or []
    init_failed = any(
        "terminated" in c["state"] and c["state"]["terminated"]["exitCode"] != 0 for c in inits
    )
    initialized = all(
        "terminated" in c["state"] and c["state"]["terminated"]["exitCode"] == 0 for c in inits
    )
    ended = [c for c in mains if "terminated" in c["state"]]
    if init_failed:
        phase = "Failed"
    elif mains and len(ended) == len(mains):
        ok = all(c["state"]["terminated"]["exitCode"] == 0 for c in ended)
        phase = "Succeeded" if ok else "Failed"
    elif initialized and any("running" in c["state"] for c in mains):
        phase = "Running"
    else:
        phase = "Pending"
    status["phase"] = phase
    ready = phase == "Running" and all(c["ready"] for c in mains)
    stamp = now()
    wanted = {
        "PodReadyToStartContainers": True,
        "Initialized": initialized,
        "Ready": ready,
        "ContainersReady": ready,
        "PodScheduled": True,
    }
    old = {c["type"]: c for c in status.get("conditions") or []}
    conditions = []
    for kind, value in wanted.items():
        text = "True" if value else "False"
        previous = old.get(kind)
        if previous and previous["status"] == text:
            conditions.append(previous)
        else:
            condition: dict[str, Any] = {
                "type": kind,
                "status": text,
                "lastProbeTime": None,
                "lastTransitionTime": stamp,
            }
            if not value and kind in ("Ready", "ContainersReady"):
                condition["reason"] = (
                    "PodCompleted" if phase in ("Succeeded", "Failed") else ("ContainersNotReady")
                )
            conditions.append(condition)
    status["conditions"] = conditions
