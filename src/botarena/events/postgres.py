"""Notices between processes through PostgreSQL ``LISTEN``/``NOTIFY``.

Notices about rows are sent by the writing transaction itself; others (a log that grew) on a
connection of the relay's own. Each process also keeps one listening connection (outside the
engine's pool), and hears its own notices through it like everyone else's. Both of the
relay's connections reconnect after a failure, waiting longer each time (with jitter, up to
half a minute); the sender keeps what it could not send yet and sends it once back. After the
listener reconnects the bus runs its catch-up passes: notices sent meanwhile were missed.
"""

from __future__ import annotations

import queue
import random
import threading
from collections.abc import Callable, Sequence

import psycopg
import structlog
from sqlalchemy import text
from sqlalchemy.engine import URL
from sqlalchemy.orm import Session

from botarena.events.notice import Notice, decode, encode

log = structlog.get_logger(__name__)

CHANNEL = "botarena_events"
_NOTIFY = text("SELECT pg_notify(:channel, :payload)")
_FIRST_BACKOFF = 0.2
_MAX_BACKOFF = 30.0
# How often a blocked listener looks at its stop signal.
_WAKE_SECONDS = 0.5
# A sender gathers what arrives within this time into one batch (and drops superseded notices).
_BATCH_SECONDS = 0.02
# While the database is away, at most this many unsent notices are kept (the newest).
_MAX_HELD = 10_000


def conninfo(url: URL) -> str:
    """A libpq connection string for the database of a SQLAlchemy URL (any driver)."""
    return url.set(drivername="postgresql").render_as_string(hide_password=False)


class PostgresRelay:
    """Sends this process's notices to the others and hands theirs to ``deliver``."""

    def __init__(
        self,
        url: URL,
        origin: str,
        deliver: Callable[[Notice], None],
        reconnected: Callable[[], None],
    ) -> None:
        self._conninfo = conninfo(url)
        self._origin = origin
        self._deliver = deliver
        self._reconnected = reconnected
        self._outbox: queue.SimpleQueue[Notice | None] = queue.SimpleQueue()
        self._stop = threading.Event()
        self._threads: list[threading.Thread] = []
        self.listening = threading.Event()
        # How many times the listener has connected and listened (it reconnects after a loss).
        self.connections = 0

    def start(self) -> None:
        for name, target in (("events-listen", self._listen), ("events-notify", self._send)):
            thread = threading.Thread(target=target, name=name, daemon=True)
            thread.start()
            self._threads.append(thread)

    def stop(self) -> None:
        self._stop.set()
        self._outbox.put(None)
        for thread in self._threads:
            thread.join(5.0)

    def send(self, notice: Notice) -> None:
        """Send ``notice`` soon, on the relay's own connection."""
        self._outbox.put(notice)

    def send_within(self, session: Session, notices: Sequence[Notice]) -> None:
        """Send ``notices`` in ``session``'s transaction: delivered if and when it commits."""
        connection = session.connection()
        for notice in notices:
            payload = self._encoded(notice)
            if payload is not None:
                connection.execute(_NOTIFY, {"channel": CHANNEL, "payload": payload})

    # -- listening -----------------------------------------------------------------------
    def _listen(self) -> None:
        backoff = _FIRST_BACKOFF
        while not self._stop.is_set():
            try:
                with psycopg.connect(self._conninfo, autocommit=True) as connection:
                    connection.execute(f"LISTEN {CHANNEL}")
                    self.connections += 1
                    self.listening.set()
                    backoff = _FIRST_BACKOFF
                    # Anything sent while no one listened is gone: let the bus catch up.
                    self._reconnected()
                    while not self._stop.is_set():
                        for message in connection.notifies(timeout=_WAKE_SECONDS):
                            self._received(message.payload)
            except psycopg.Error as exc:
                self.listening.clear()
                if self._stop.is_set():
                    return
                log.warning("event listener lost its connection", error=str(exc), retry=backoff)
                self._stop.wait(backoff * random.uniform(0.5, 1.0))  # noqa: S311 - jitter
                backoff = min(backoff * 2, _MAX_BACKOFF)
        self.listening.clear()

    def _received(self, payload: str) -> None:
        decoded = decode(payload)
        if decoded is None:
            log.warning("an unreadable event notice was ignored")
            return
        _origin, notice = decoded
        self._deliver(notice)

    # -- sending -------------------------------------------------------------------------
    def _send(self) -> None:
        connection: psycopg.Connection[tuple[object, ...]] | None = None
        backoff = _FIRST_BACKOFF
        payloads: list[str] = []
        while True:
            batch = self._next_batch()
            if batch is None:
                break
            payloads = (payloads + [p for p in map(self._encoded, batch) if p])[-_MAX_HELD:]
            while payloads:
                try:
                    if connection is None or connection.closed:
                        connection = psycopg.connect(self._conninfo, autocommit=True)
                    with connection.transaction():
                        for payload in payloads:
                            connection.execute("SELECT pg_notify(%s, %s)", (CHANNEL, payload))
                    payloads = []
                    backoff = _FIRST_BACKOFF
                except psycopg.Error as exc:
                    log.warning("event notices not sent yet", error=str(exc), retry=backoff)
                    if connection is not None:
                        connection.close()
                    connection = None
                    if self._stop.is_set():
                        break
                    self._stop.wait(backoff * random.uniform(0.5, 1.0))  # noqa: S311 - jitter
                    backoff = min(backoff * 2, _MAX_BACKOFF)
        if connection is not None:
            connection.close()

    def _encoded(self, notice: Notice) -> str | None:
        try:
            return encode(notice, self._origin)
        except ValueError as exc:
            log.warning("an event notice was not sent", error=str(exc))
            return None

    def _next_batch(self) -> list[Notice] | None:
        first = self._outbox.get()
        if first is None:
            return None
        batch = [first]
        self._stop.wait(_BATCH_SECONDS)
        while True:
            try:
                item = self._outbox.get_nowait()
            except queue.Empty:
                break
            if item is None:
                self._outbox.put(None)
                break
            batch.append(item)
        return _without_superseded(batch)


def _without_superseded(batch: list[Notice]) -> list[Notice]:
    """The batch in order, without ``latest`` notices that a later one of their topic makes
    stale."""
    last: dict[str, int] = {}
    for index, notice in enumerate(batch):
        if notice.latest:
            last[notice.topic] = index
    return [n for i, n in enumerate(batch) if not n.latest or last[n.topic] == i]
