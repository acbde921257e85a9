"""Whether an executor can take matches now, each check named: answered as the standard
``grpc.health.v1`` service on its gRPC port and as ``/readyz`` on its HTTP port.

``serving``: it has not begun to stop. ``sandbox``: the bubblewrap sandbox that plays folder
agents can start (its sentence says what to install or allow). ``containers``, only where
images are played (the docker build backend, or an image already played here): the container
engine answers, since it is those agents' sandbox. An executor that plays its matches as
Kubernetes Jobs runs no sandbox of its own: ``sandbox`` is left out and ``containers`` is
whether the cluster's API answers.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol, runtime_checkable

from botarena.executor.rpc import health, health_pb2
from botarena.executor.sandbox import probe_isolation

CHECKS = ("serving", "sandbox", "containers")
# The names a health client may ask for: "" (the whole server) and the executor service.
SERVICES = ("", "botarena.executor.v1.Executor")


@dataclass(frozen=True)
class Check:
    name: str
    ok: bool
    detail: str | None = None


@runtime_checkable
class ContainerEngine(Protocol):
    """Where an executor's agent containers run (the executor's runner)."""

    @property
    def plays_images(self) -> bool: ...

    def engine_problem(self) -> str | None: ...


class ExecutorHealth:
    """The executor's checks, and the gRPC health service that reports them."""

    def __init__(self, engine: ContainerEngine | None = None, *, sandbox: bool = True) -> None:
        self.service = health.HealthServicer()
        self.engine = engine
        self.sandbox = sandbox
        self._stopping = False

    def checks(self) -> list[Check]:
        """Every check, in :data:`CHECKS` order; the gRPC status follows what they say."""
        stopping = "the executor is stopping" if self._stopping else None
        found = [Check("serving", not self._stopping, stopping)]
        if self.sandbox:
            reason = probe_isolation().unavailable_reason()
            found.append(Check("sandbox", reason is None, reason))
        if self.engine is not None and self.engine.plays_images:
            problem = self.engine.engine_problem()
            found.append(Check("containers", problem is None, problem))
        status = (
            health_pb2.HealthCheckResponse.SERVING
            if all(c.ok for c in found)
            else health_pb2.HealthCheckResponse.NOT_SERVING
        )
        for name in SERVICES:
            self.service.set(name, status)
        return found

    def stopping(self) -> None:
        """Every service NOT_SERVING from now on (watchers are told at once)."""
        self._stopping = True
        self.service.enter_graceful_shutdown()
