"""``GET pods/{name}/log``: one container's log, followed while it runs, its last lines, or
400 while the container waits to start (as the kubelet answers)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from . import podstatus
from .errors import bad_request
from .http import Request
from .resources import PODS

if TYPE_CHECKING:
    from .cluster import Cluster


def pod_log(cluster: Cluster, request: Request, namespace: str, name: str) -> None:
    pod = cluster.store.get(PODS, namespace, name)
    spec = pod["spec"]
    mains = [c["name"] for c in spec["containers"]]
    inits = [c["name"] for c in spec.get("initContainers") or []]
    container = request.query.get("container")
    if not container:
        if len(mains) != 1:
            also = f" or one of the init containers: [{' '.join(inits)}]" if inits else ""
            raise bad_request(
                f"a container name must be specified for pod {name}, choose one of: "
                f"[{' '.join(mains)}]{also}"
            )
        container = mains[0]
    if container not in mains + inits:
        raise bad_request(f"container {container} is not valid for pod {name}")
    if request.flag("previous"):
        raise bad_request(f'previous terminated container "{container}" in pod "{name}" not found')
    status = podstatus.container_status(pod, container)
    state = (status or {}).get("state") or {"waiting": {"reason": "ContainerCreating"}}
    if "waiting" in state:
        reason = state["waiting"].get("reason", "ContainerCreating")
        raise bad_request(f'container "{container}" in pod "{name}" is waiting to start: {reason}')
    buffer = cluster.log(pod["metadata"]["uid"], container)
    lines = buffer.read(
        follow=request.flag("follow"),
        tail_lines=request.integer("tailLines"),
        since_seconds=request.integer("sinceSeconds"),
        timestamps=request.flag("timestamps"),
    )
    if request.flag("follow"):
        request.stream("text/plain", lines)
    else:
        request.send_text(200, b"".join(lines))
