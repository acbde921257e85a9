"""The delivery worker inside ``botarena serve``: one thread that sends what is due.

Each pass hands back deliveries whose worker vanished (its lease ran out), then claims and
sends due deliveries one by one until none is left. A delivery is claimed and recorded in two
short transactions; the network call happens between them, holding no connection. Since every
state is in the database, a server killed mid-delivery loses nothing: after the lease, the
delivery is sent again (receivers deduplicate on ``X-Botarena-Delivery``).
"""

from __future__ import annotations

import os
import socket
import threading
import time

import structlog

from botarena.db.engine import SessionFactory
from botarena.notifications import delivering
from botarena.notifications.queue import lease_seconds
from botarena.settings import Settings
from botarena.workers import Workers

log = structlog.get_logger(__name__)


class NotificationWorkers(Workers):
    """Sends webhooks and e-mails; :meth:`tick` is one pass."""

    def __init__(
        self, factory: SessionFactory, settings: Settings, name: str | None = None
    ) -> None:
        super().__init__()
        self.factory = factory
        self.settings = settings
        self.name = name or f"notify-{socket.gethostname()[:32]}-{os.getpid()}"
        self._pruned_at: float | None = None
        self._prune_lock = threading.Lock()

    def start(self) -> None:
        # Several threads, so that one slow receiver does not hold up everyone's deliveries.
        for number in range(self.settings.notify_concurrency):
            self._spawn(f"notifications-{number}", self._run)

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                self.tick()
            except Exception:
                log.exception("a delivery pass failed")
            self._idle(self.settings.notify_interval)

    def tick(self, limit: int = 100) -> int:
        """Send what is due now (at most ``limit``); returns how many attempts were made."""
        with self.factory() as session:
            delivering.reap(session, self.settings)
            if self._prune_due():
                delivering.prune(session)
            session.commit()
        made = 0
        while made < limit and not self._stop.is_set():
            if not self.attempt_one():
                break
            made += 1
        return made

    def _prune_due(self) -> bool:
        """Once an hour per process: old deliveries are few to find, but not free."""
        with self._prune_lock:
            now = time.monotonic()
            if self._pruned_at is not None and now - self._pruned_at < 3600:
                return False
            self._pruned_at = now
            return True

    def attempt_one(self) -> bool:
        """Claim, send and record one delivery; False when none was due."""
        lease = lease_seconds(self.settings)
        with self.factory() as session:
            job = delivering.claim(session, self.settings, self.name, lease)
            session.commit()
        if job is None:
            return False
        outcome = delivering.send(job, self.settings)
        with self.factory() as session:
            delivering.record(session, self.settings, job, self.name, outcome)
            session.commit()
        return True
