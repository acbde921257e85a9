"""Agent containers nobody will remove: those of a process that died (an executor killed
outright leaves its matches' containers behind) and those whose removal failed (the engine
was down when their match ended). Each container carries its owner (this host, process and
the process's start time); a runner sweeps the dead owners' containers when it starts and
its own forgotten ones while it runs and when it closes.
"""

from __future__ import annotations

import contextlib
import secrets
import threading
import time
from typing import Any

import structlog

from botarena.executor.runners.warm_pool import owner_alive, process_label

log = structlog.get_logger(__name__)

OWNER_LABEL = "io.botarena.owner"
# Which runner of its process made a container: a process may hold several runners (an
# embedded executor's, a build's validation match), each reaping only its own.
RUNNER_LABEL = "io.botarena.runner"
# A container younger than this may be on its way into use (being created, or warming).
_GRACE_SECONDS = 60.0
# How often a running runner looks for its own forgotten containers.
_EVERY_SECONDS = 30.0


class ContainerReaper:
    """Knows which of this process's agent containers are in use; removes the others."""

    def __init__(self, client: Any, agent_label: str) -> None:
        self.client = client
        self.agent_label = agent_label
        self.owner = process_label()
        self.runner = secrets.token_hex(6)
        self._in_use: set[str] = set()
        self._lock = threading.Lock()
        self._last = time.monotonic()

    def labels(self) -> dict[str, str]:
        return {OWNER_LABEL: self.owner, RUNNER_LABEL: self.runner}

    def using(self, container_id: str) -> None:
        with self._lock:
            self._in_use.add(container_id)

    def done(self, container_id: str) -> None:
        with self._lock:
            self._in_use.discard(container_id)

    def sweep_dead_owners(self) -> int:
        """Remove the agent containers of processes of this host that are gone; how many."""
        found = self._list({"label": OWNER_LABEL})
        dead = [c["Id"] for c in found if not owner_alive(c["Labels"][OWNER_LABEL])]
        return self._remove(dead, "containers of a process that is gone removed")

    def now_and_then(self, keep: set[str]) -> None:
        """Every half minute: remove this process's containers that are neither in use nor in
        ``keep`` (the warm pool's), and old enough not to be on their way into use."""
        now = time.monotonic()
        with self._lock:
            if now - self._last < _EVERY_SECONDS:
                return
            self._last = now
        self.reap(keep, grace=_GRACE_SECONDS)

    def reap(self, keep: set[str], *, grace: float = 0.0) -> int:
        found = self._list({"label": f"{RUNNER_LABEL}={self.runner}"})
        oldest = time.time() - grace
        with self._lock:
            busy = self._in_use | keep
        forgotten = [c["Id"] for c in found if c["Id"] not in busy and c["Created"] <= oldest]
        return self._remove(forgotten, "forgotten agent containers removed")

    def _list(self, filters: dict[str, str]) -> list[dict[str, Any]]:
        try:
            found: list[dict[str, Any]] = self.client.api.containers(all=True, filters=filters)
        except Exception as exc:  # the engine is down: the next look will do
            log.info("agent containers not swept: the engine does not answer", error=str(exc))
            return []
        return [c for c in found if self.agent_label in (c.get("Labels") or {})]

    def _remove(self, ids: list[str], what: str) -> int:
        removed = 0
        for container_id in ids:
            with contextlib.suppress(Exception):
                self.client.api.remove_container(container_id, force=True)
                removed += 1
        if removed:
            log.info(what, count=removed)
        return removed
