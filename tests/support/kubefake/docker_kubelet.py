"""A kubelet that runs each pod's containers for real on a Docker engine.

Init containers run one after the other, then the containers together; ``emptyDir`` volumes
are host folders bind-mounted where the pod mounts them (or their ``subPath``);
``command``/``args``/``env``/``workingDir``, the security context (user and group, read-only
root, dropped or added capabilities, ``allowPrivilegeEscalation: false`` as
no-new-privileges) and the CPU and memory limits map to the engine's options. The
termination message is a host file mounted at ``terminationMessagePath`` (or the log's end,
with ``FallbackToLogsOnError``). A missing image that cannot be pulled leaves the container
waiting in ErrImagePull, then ImagePullBackOff. OOMKilled is the engine's flag, or a SIGKILL
under a memory limit that the kubelet did not send (the engine misses some OOM kills on
cgroup v2). Containers get no network (``network_mode``). A container created with
``stdin: true`` gets what attach sessions write (see attach.py), ``stdinOnce`` honoured by the
engine. A pod whose container runs the builder image of a ``kaniko.KanikoStandIn`` is built by
the stand-in.
"""

from __future__ import annotations

import contextlib
import re
import shutil
import socket
import tempfile
import threading
from pathlib import Path
from typing import Any

import docker
import docker.errors

from . import podstatus
from .kaniko import KanikoStandIn
from .kubelet import KILLED_EXIT_CODE, PodRun

_SUFFIXES = {
    "Ki": 2**10,
    "Mi": 2**20,
    "Gi": 2**30,
    "Ti": 2**40,
    "k": 10**3,
    "M": 10**6,
    "G": 10**9,
    "T": 10**12,
}


def memory_bytes(quantity: str | int) -> int:
    text = str(quantity)
    match = re.fullmatch(r"([0-9.]+)([A-Za-z]*)", text)
    if not match or (match.group(2) and match.group(2) not in _SUFFIXES):
        raise ValueError(f"not a memory quantity: {text!r}")
    number, suffix = match.groups()
    return int(float(number) * _SUFFIXES.get(suffix, 1))


def nano_cpus(quantity: str | int | float) -> int:
    text = str(quantity)
    if text.endswith("m"):
        return int(float(text[:-1]) * 1_000_000)
    return int(float(text) * 1_000_000_000)


class DockerKubelet:
    def __init__(
        self,
        client: docker.DockerClient,
        network_mode: str = "none",
        kaniko: KanikoStandIn | None = None,
    ) -> None:
        self.api = client.api
        self.network_mode = network_mode
        # Pods running the builder image are built by the stand-in (see kaniko.py).
        self.kaniko = kaniko
        self._lock = threading.Lock()
        self._containers: set[str] = set()

    def close(self) -> None:
        with self._lock:
            leftover = list(self._containers)
        for container_id in leftover:
            with contextlib.suppress(docker.errors.APIError):
                self.api.remove_container(container_id, force=True)

    def run(self, pod: PodRun) -> None:
        if self.kaniko is not None and self.kaniko.runs(pod):
            self.kaniko.run(pod, self.api)
            return
        folder = Path(tempfile.mkdtemp(prefix="kubefake-pod-"))
        created: list[str] = []
        try:
            volumes = self._volumes(pod, folder)
            messages = folder / "termination"
            messages.mkdir()
            for container in pod.init_containers:
                container_id = self._prepare(pod, container, volumes, messages, created)
                if container_id is None or not self._run_one(
                    pod, container, container_id, messages
                ):
                    return
            ids: list[tuple[dict[str, Any], str]] = []
            for container in pod.containers:
                container_id = self._prepare(pod, container, volumes, messages, created)
                if container_id is None:
                    return
                ids.append((container, container_id))
            pumps = [self._start(pod, container, cid) for container, cid in ids]
            for (container, container_id), pump in zip(ids, pumps, strict=True):
                self._finish(pod, container, container_id, pump, messages)
        finally:
            for container_id in created:
                with contextlib.suppress(docker.errors.APIError):
                    self.api.remove_container(container_id, force=True)
                with self._lock:
                    self._containers.discard(container_id)
            shutil.rmtree(folder, ignore_errors=True)

    # -- one container ---------------------------------------------------------------------

    def _volumes(self, pod: PodRun, folder: Path) -> dict[str, Path]:
        volumes = {}
        for volume in pod.pod["spec"].get("volumes") or []:
            if "emptyDir" in volume:
                path = folder / volume["name"]
                path.mkdir()
                path.chmod(0o777)
                volumes[volume["name"]] = path
        return volumes

    def _pull(self, pod: PodRun, container: dict[str, Any]) -> bool:
        """Make sure the image is there; stay in ErrImagePull/ImagePullBackOff while it
        cannot be had. False when the pod was killed meanwhile."""
        image, name = container["image"], container["name"]
        attempt = 0
        while not pod.killed.is_set():
            try:
                self.api.inspect_image(image)
                return True
            except docker.errors.ImageNotFound:
                pass
            if container.get("imagePullPolicy") == "Never":
                pod.set_state(name, podstatus.waiting("ErrImageNeverPull", f"image {image} absent"))
                pod.killed.wait()
                return False
            try:
                self.api.pull(image)
                continue
            except docker.errors.APIError as error:
                reason = "ErrImagePull" if attempt == 0 else "ImagePullBackOff"
                message = str(error) if attempt == 0 else f'Back-off pulling image "{image}"'
                pod.set_state(name, podstatus.waiting(reason, message))
            attempt += 1
            pod.wait(0.2 if attempt == 1 else 1.0)
        return False

    def _prepare(
        self,
        pod: PodRun,
        container: dict[str, Any],
        volumes: dict[str, Path],
        messages: Path,
        created: list[str],
    ) -> str | None:
        if not self._pull(pod, container):
            return None
        message = messages / container["name"]
        message.touch()
        message.chmod(0o666)
        security = {
            **(pod.pod["spec"].get("securityContext") or {}),
            **(container.get("securityContext") or {}),
        }
        user = None
        if security.get("runAsUser") is not None:
            user = str(security["runAsUser"])
            if security.get("runAsGroup") is not None:
                user += f":{security['runAsGroup']}"
        capabilities = security.get("capabilities") or {}
        limits = (container.get("resources") or {}).get("limits") or {}
        host: dict[str, Any] = {
            "network_mode": self.network_mode,
            "read_only": bool(security.get("readOnlyRootFilesystem")),
            "cap_drop": capabilities.get("drop") or None,
            "cap_add": capabilities.get("add") or None,
            "binds": [
                f"{_mounted(volumes[mount['name']], mount)}:{mount['mountPath']}:"
                + ("ro" if mount.get("readOnly") else "rw")
                for mount in container.get("volumeMounts") or []
                if mount["name"] in volumes
            ]
            + [f"{message}:{container.get('terminationMessagePath', '/dev/termination-log')}:rw"],
        }
        if security.get("allowPrivilegeEscalation") is False:
            host["security_opt"] = ["no-new-privileges"]
        if "memory" in limits:
            host["mem_limit"] = memory_bytes(limits["memory"])
            host["memswap_limit"] = host["mem_limit"]
        if "cpu" in limits:
            host["nano_cpus"] = nano_cpus(limits["cpu"])
        env = {
            item["name"]: item.get("value", "")
            for item in container.get("env") or []
            if "valueFrom" not in item
        }
        created_container = self.api.create_container(
            container["image"],
            entrypoint=container.get("command"),
            command=container.get("args"),
            environment=env,
            working_dir=container.get("workingDir"),
            user=user,
            stdin_open=bool(container.get("stdin")),
            labels={"kubefake.pod-uid": pod.uid},
            host_config=self.api.create_host_config(**host),
        )
        container_id: str = created_container["Id"]
        created.append(container_id)
        with self._lock:
            self._containers.add(container_id)
        return container_id

    def _start(self, pod: PodRun, container: dict[str, Any], container_id: str) -> threading.Thread:
        buffer = pod.log(container["name"])
        if container.get("stdin"):
            self._feed_stdin(pod, container["name"], container_id)
        self.api.start(container_id)
        started = self.api.inspect_container(container_id)["State"].get("StartedAt")
        image_id = self.api.inspect_container(container_id).get("Image", "")
        pod.set_state(
            container["name"], podstatus.running(_stamp(started)), image_id=f"docker://{image_id}"
        )

        def pump() -> None:
            with contextlib.suppress(Exception):
                for chunk in self.api.logs(container_id, stream=True, follow=True):
                    buffer.write(chunk)

        thread = threading.Thread(target=pump, name=f"logs-{container_id[:12]}", daemon=True)
        thread.start()
        return thread

    def _feed_stdin(self, pod: PodRun, name: str, container_id: str) -> None:
        """What attach sessions write goes to the container's stdin, closed when the pipe
        closes (the engine then closes the container's, with ``stdinOnce``)."""
        attached = self.api.attach_socket(container_id, params={"stdin": 1, "stream": 1})
        raw = getattr(attached, "_sock", attached)

        def pump() -> None:
            with contextlib.suppress(OSError):
                for chunk in pod.stdin(name).read(stop=pod.killed):
                    raw.sendall(chunk)
                raw.shutdown(socket.SHUT_WR)
            with contextlib.suppress(OSError):
                attached.close()

        threading.Thread(target=pump, name=f"stdin-{container_id[:12]}", daemon=True).start()

    def _finish(
        self,
        pod: PodRun,
        container: dict[str, Any],
        container_id: str,
        pump: threading.Thread,
        messages: Path,
    ) -> int:
        """Wait for the container to end (or kill it when the pod is); record how it ended."""
        while True:
            state = self.api.inspect_container(container_id)["State"]
            if not state.get("Running"):
                break
            if pod.killed.wait(0.05):
                with contextlib.suppress(docker.errors.APIError):
                    self.api.kill(container_id)
        pump.join(5)
        state = self.api.inspect_container(container_id)["State"]
        code = int(state.get("ExitCode", KILLED_EXIT_CODE))
        # The engine learns of an OOM kill from the cgroup's events, which it loses now and then
        # on cgroup v2 when the container is gone first: a container under a memory limit that
        # died of SIGKILL the kubelet did not send was killed by the kernel's OOM killer.
        limited = "memory" in ((container.get("resources") or {}).get("limits") or {})
        unexplained = code == KILLED_EXIT_CODE and limited and not pod.killed.is_set()
        reason = "OOMKilled" if state.get("OOMKilled") or unexplained else None
        message = _termination_message(pod, container, messages, code)
        pod.set_state(
            container["name"],
            podstatus.terminated(
                code, reason, started_at=_stamp(state.get("StartedAt")), message=message
            ),
        )
        return code

    def _run_one(
        self, pod: PodRun, container: dict[str, Any], container_id: str, messages: Path
    ) -> bool:
        pump = self._start(pod, container, container_id)
        return self._finish(pod, container, container_id, pump, messages) == 0


def _mounted(volume: Path, mount: dict[str, Any]) -> Path:
    """The host folder of a volume mount: the volume's, or its ``subPath`` (made when absent,
    as the kubelet does; a path that leaves the volume is refused, as the API does)."""
    sub_path = mount.get("subPath") or ""
    if sub_path.startswith("/") or ".." in Path(sub_path).parts:
        raise ValueError(f"subPath {sub_path!r} must be a relative path inside the volume")
    folder = volume / sub_path
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def _stamp(docker_time: str | None) -> str | None:
    """Docker's nanosecond RFC 3339 time, as Kubernetes writes it (seconds)."""
    if not docker_time:
        return None
    return docker_time.split(".")[0].rstrip("Z") + "Z"


def _termination_message(
    pod: PodRun, container: dict[str, Any], messages: Path, code: int
) -> str | None:
    """What the container wrote to its terminationMessagePath (at most 4096 bytes), or with
    ``FallbackToLogsOnError`` and a failure, the end of its log (80 lines, 2048 bytes)."""
    written = (messages / container["name"]).read_bytes()[:4096]
    if (
        not written
        and code != 0
        and container.get("terminationMessagePolicy") == ("FallbackToLogsOnError")
    ):
        lines = pod.log(container["name"]).text().splitlines(keepends=True)[-80:]
        written = b"".join(lines)[-2048:]
    return written.decode(errors="replace") or None
