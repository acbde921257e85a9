"""The ``docker`` runner: each agent in a container of its own image, through the Engine API.

Every container has no network, a read-only root, a private size-capped ``/tmp``, memory
(swap included), process and CPU limits, no capabilities, no way to gain privileges, and
runs as ``nobody`` whatever its image says. An OCI runtime such as gVisor's ``runsc`` can be
chosen for a stronger boundary. It works against dockerd and against podman's API service.
"""

from __future__ import annotations

import contextlib
from typing import Any

import docker
import docker.errors
from docker.types import Ulimit

from botarena.executor.agent_process import AgentProcess
from botarena.executor.prepare import PreparedAgent
from botarena.executor.runners.containers import ContainerProcess
from botarena.executor.runners.reaper import ContainerReaper
from botarena.executor.runners.warm_pool import WAIT_SCRIPT, WARM_LABEL, WarmPool
from botarena.executor.sandbox import Limits

AGENT_USER = "65534:65534"
GVISOR = "runsc"
# Processes and threads of all agents of one host together (RLIMIT_NPROC of their user).
AGENT_USER_PROCESSES = 16384
LABEL = "io.botarena.agent"
_API_TIMEOUT = 120
_ENVIRONMENT = {"HOME": "/tmp", "PYTHONDONTWRITEBYTECODE": "1"}  # noqa: S108


class DockerUnavailableError(RuntimeError):
    """The container engine cannot be reached."""


def connect(base_url: str | None = None, *, timeout: int = _API_TIMEOUT) -> docker.DockerClient:
    """A client of the engine at ``base_url`` (``DOCKER_HOST`` or the default socket when
    None); raises DockerUnavailableError with the engine's answer when it cannot be reached."""
    try:
        if base_url:
            return docker.DockerClient(base_url=base_url, timeout=timeout)
        return docker.from_env(timeout=timeout)
    except docker.errors.DockerException as exc:
        raise DockerUnavailableError(f"the container engine cannot be reached: {exc}") from exc


def split_reference(reference: str) -> tuple[str, str]:
    """(repository, tag) of ``host:port/name:tag``; the tag is ``latest`` when absent. For
    ``name@sha256:…`` the digest takes the tag's place (the engine pulls by either)."""
    if "@" in reference:
        repository, _, digest = reference.partition("@")
        return repository, digest
    name, _, tag = reference.rpartition(":")
    if not name or "/" in tag:
        return reference, "latest"
    return name, tag


def engine_problem(client: docker.DockerClient) -> str | None:
    """Why the engine cannot be used now, or None when it answers."""
    try:
        client.ping()
    except Exception as exc:
        return f"the container engine does not answer: {exc}"
    return None


class DockerRunner:
    """Starts agents as containers of their images; with ``warm_per_image`` above 0, from a
    pool of containers started ahead (see warm_pool), at most ``warm_total`` of them."""

    def __init__(
        self,
        client: docker.DockerClient,
        limits: Limits | None = None,
        *,
        runtime: str | None = None,
        warm_per_image: int = 0,
        warm_total: int = 8,
    ) -> None:
        self.client = client
        self.limits = limits or Limits()
        self.runtime = runtime
        self.reaper = ContainerReaper(client, LABEL)
        self.reaper.sweep_dead_owners()
        self.pool: WarmPool | None = None
        if warm_per_image > 0 and warm_total > 0:
            self.pool = WarmPool(
                client, self._create_warm, per_image=warm_per_image, total=warm_total
            )

    def close(self) -> None:
        """Remove the warm containers and those still being removed, and any of this runner's
        containers a failed removal left; idempotent."""
        if self.pool is not None:
            self.pool.close()
        self.reaper.reap(set())

    def _release(self, container_id: str, stream: Any = None) -> None:
        """A match-agent's container is done: removed (by the pool in the background, when
        there is one); one whose removal fails is reaped later."""
        self.reaper.done(container_id)
        if self.pool is not None:
            self.pool.hand_back(container_id, stream)
            return
        with contextlib.suppress(docker.errors.NotFound, docker.errors.APIError, OSError):
            self.client.api.remove_container(container_id, force=True)

    def __enter__(self) -> DockerRunner:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    @property
    def isolation(self) -> str:
        runtime = f"the {self.runtime} runtime" if self.runtime else "the engine's runtime"
        return (
            f"containers with {runtime}: no network, read-only root, no capabilities, "
            f"memory {self.limits.memory_bytes // (1024 * 1024)} MiB, "
            f"{self.limits.pids} processes, {self.limits.cpu_cores:g} CPU"
        )

    @property
    def sandboxed(self) -> bool:
        return True

    def start(self, agent: PreparedAgent, *, name: str) -> AgentProcess:
        if agent.image is None:
            raise ValueError(f"{agent.name} has no image: the docker runner runs built images")
        self.reaper.now_and_then(self.pool.idle_ids() if self.pool is not None else set())
        if self.pool is not None:
            warm = self.pool.take(agent.image, agent.command)
            if warm is not None:
                self.reaper.using(warm.container_id)
                return ContainerProcess(
                    self.client,
                    warm.container_id,
                    warm.stream,
                    memory_limit_bytes=self.limits.memory_bytes,
                    remove=self._release,
                )
        api = self.client.api
        try:
            container = self._create(agent, agent.image, name)
        except docker.errors.ImageNotFound:
            # Built elsewhere and pushed: fetch it from its registry, once.
            repository, tag = split_reference(agent.image)
            api.pull(repository, tag=tag)
            container = self._create(agent, agent.image, name)
        container_id: str = container["Id"]
        self.reaper.using(container_id)
        try:
            stream = api.attach_socket(
                container_id, params={"stdin": 1, "stdout": 1, "stderr": 1, "stream": 1}
            )
            api.start(container_id)
        except BaseException:
            self._release(container_id)
            raise
        return ContainerProcess(
            self.client,
            container_id,
            stream,
            memory_limit_bytes=self.limits.memory_bytes,
            remove=self._release,
        )

    def _create_warm(self, image_id: str, command: list[str], warmed_by: str) -> tuple[str, Any]:
        """A started container of ``image_id`` whose waiter runs ``command`` once released,
        and its attached stream: the confinement of every agent container."""
        api = self.client.api
        created = api.create_container(
            image_id,
            entrypoint=["/bin/sh", "-c", WAIT_SCRIPT, "botarena-wait"],
            command=command,
            stdin_open=True,
            tty=False,
            user=AGENT_USER,
            network_disabled=True,
            environment=_ENVIRONMENT,
            labels={LABEL: "warm", WARM_LABEL: warmed_by, **self.reaper.labels()},
            host_config=api.create_host_config(**self.host_config()),
        )
        container_id: str = created["Id"]
        try:
            stream = api.attach_socket(
                container_id, params={"stdin": 1, "stdout": 1, "stderr": 1, "stream": 1}
            )
            api.start(container_id)
        except BaseException:
            api.remove_container(container_id, force=True)
            raise
        return container_id, stream

    def _create(self, agent: PreparedAgent, image: str, name: str) -> dict[str, Any]:
        api = self.client.api
        created: dict[str, Any] = api.create_container(
            image,
            command=list(agent.command) if agent.command else None,
            stdin_open=True,
            tty=False,
            user=AGENT_USER,
            network_disabled=True,
            environment=_ENVIRONMENT,
            labels={LABEL: name, **self.reaper.labels()},
            host_config=api.create_host_config(**self.host_config()),
        )
        return created

    def host_config(self) -> dict[str, Any]:
        """The limits and confinement of every agent container."""
        limits = self.limits
        config: dict[str, Any] = {
            "network_mode": "none",
            "read_only": True,
            "tmpfs": {"/tmp": f"rw,nosuid,nodev,size={limits.tmp_bytes},mode=1777"},  # noqa: S108
            "mem_limit": limits.memory_bytes,
            "memswap_limit": limits.memory_bytes,
            "pids_limit": limits.pids,
            "nano_cpus": int(limits.cpu_cores * 1e9),
            "cap_drop": ["ALL"],
            "security_opt": ["no-new-privileges"],
            "ipc_mode": "private",
            "shm_size": limits.tmp_bytes,
            "ulimits": [
                Ulimit(name="nofile", soft=limits.open_files, hard=limits.open_files),
                Ulimit(name="fsize", soft=limits.file_size_bytes, hard=limits.file_size_bytes),
                Ulimit(name="core", soft=limits.core_bytes, hard=limits.core_bytes),
            ],
        }
        if self.runtime:
            config["runtime"] = self.runtime
        if self.runtime == GVISOR:
            # runsc cannot start a container with a pids cgroup limit on this engine; its own
            # kernel enforces RLIMIT_NPROC on the agent's (non-root) user instead.
            del config["pids_limit"]
            nproc = limits.pids
        else:
            # The pids cgroup is each agent's limit. RLIMIT_NPROC counts the processes of the
            # agents' shared user on the whole host; it is set explicitly, well above what
            # the agents of one host run together, because podman otherwise asks for a default
            # above the engine's hard limit, which a host without CAP_SYS_RESOURCE refuses.
            nproc = AGENT_USER_PROCESSES
        config["ulimits"].append(Ulimit(name="nproc", soft=nproc, hard=nproc))
        return config

    def leftovers(self) -> list[str]:
        """Ids of agent containers that still exist (none once every match has ended)."""
        found = self.client.api.containers(all=True, filters={"label": LABEL})
        return [c["Id"] for c in found]
