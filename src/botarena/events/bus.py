"""The bus of one process: subscriptions, one delivery thread, catch-up passes, the relay."""

from __future__ import annotations

import queue
import threading
import time
import uuid
import weakref
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import structlog
from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from botarena.events.capture import Capture, Extract
from botarena.events.notice import Notice
from botarena.metrics import definitions as metrics

if TYPE_CHECKING:
    from botarena.events.postgres import PostgresRelay

log = structlog.get_logger(__name__)

Callback = Callable[[Notice], None]

_buses: weakref.WeakKeyDictionary[sessionmaker[Session], EventBus] = weakref.WeakKeyDictionary()


def bus_for(factory: sessionmaker[Session]) -> EventBus | None:
    """The bus that publishes what sessions of ``factory`` commit, if one was attached."""
    return _buses.get(factory)


@dataclass(eq=False)
class Subscription:
    """One subscriber's interest in a topic (or every topic starting with a prefix)."""

    topic: str
    callback: Callback
    prefix: bool
    bus: EventBus

    def close(self) -> None:
        """Stop receiving notices (they may still arrive while this call runs)."""
        self.bus._unsubscribe(self)


@dataclass(eq=False)
class _Periodic:
    seconds: float
    callback: Callable[[], None]
    due: float = field(default=0.0)


class EventBus:
    """Publish notices and subscribe to topics, in this process and (PostgreSQL) all others.

    Callbacks run on the bus's one delivery thread, in the order notices were published (on
    PostgreSQL: the order in which the database delivered them); they must be quick.
    """

    def __init__(self, engine: Engine) -> None:
        self.origin = uuid.uuid4().hex[:16]
        self._lock = threading.Lock()
        self._exact: dict[str, list[Subscription]] = {}
        self._prefixed: list[Subscription] = []
        self._periodic: list[_Periodic] = []
        self._inbox: queue.SimpleQueue[Notice | Callable[[], None] | None] = queue.SimpleQueue()
        self._thread: threading.Thread | None = None
        self._running = False
        self.relay: PostgresRelay | None = None
        if engine.dialect.name == "postgresql":
            # Imported here: the PostgreSQL driver is loaded only where it is used.
            from botarena.events.postgres import PostgresRelay

            self.relay = PostgresRelay(engine.url, self.origin, self._inbox.put, self.catch_up)
            self._capture = Capture(self.publish, self.relay.send_within)
        else:
            self._capture = Capture(self.publish)

    # -- wiring ----------------------------------------------------------------------------
    def watch(self, model: type, extract: Extract, *, changes: bool = False) -> None:
        """Rows of ``model`` written by an attached session become ``extract(row)``'s notices,
        published once the transaction commits (see :mod:`botarena.events.capture`)."""
        self._capture.watch(model, extract, changes=changes)

    def attach(self, factory: sessionmaker[Session]) -> None:
        """Publish what sessions of ``factory`` commit to watched models."""
        self._capture.attach(factory)
        _buses[factory] = self

    def every(self, seconds: float, callback: Callable[[], None]) -> None:
        """Run ``callback`` on the delivery thread every ``seconds``, and at once whenever
        notices may have been missed (the relay reconnected): a catch-up pass."""
        self._periodic.append(_Periodic(seconds, callback, time.monotonic() + seconds))

    def start(self) -> None:
        if self._running:
            return
        self._running = True
        self._thread = threading.Thread(target=self._deliver, name="events", daemon=True)
        self._thread.start()
        if self.relay is not None:
            self.relay.start()

    def stop(self) -> None:
        if not self._running:
            return
        self._running = False
        if self.relay is not None:
            self.relay.stop()
        self._inbox.put(None)
        if self._thread is not None:
            self._thread.join(5.0)

    # -- publishing and subscribing --------------------------------------------------------
    def publish(self, notices: Notice | Iterable[Notice]) -> None:
        """Tell every subscriber, here and in other processes (thread-safe, never blocks).

        A notice about database rows must be published only after their transaction
        committed: watched models are (:meth:`watch`); anything else is the caller's care.
        On PostgreSQL every notice, this process's too, comes back through ``LISTEN``, so
        that all processes hear them in one order.
        """
        if not self._running:
            return
        for notice in [notices] if isinstance(notices, Notice) else notices:
            if self.relay is not None:
                self.relay.send(notice)
            else:
                self._inbox.put(notice)

    def subscribe(self, topic: str, callback: Callback, *, prefix: bool = False) -> Subscription:
        """Call ``callback(notice)`` for each notice on ``topic`` (with ``prefix``: on every
        topic that starts with it) published from now on."""
        subscription = Subscription(topic, callback, prefix, self)
        with self._lock:
            if prefix:
                self._prefixed = [*self._prefixed, subscription]
            else:
                self._exact[topic] = [*self._exact.get(topic, []), subscription]
        metrics.listeners_changed(+1)
        return subscription

    def subscribers(self, topic: str) -> int:
        """How many subscriptions hear ``topic`` now (exactly, or by a prefix of it)."""
        with self._lock:
            exact = len(self._exact.get(topic, []))
            return exact + sum(1 for s in self._prefixed if topic.startswith(s.topic))

    def catch_up(self) -> None:
        """Run every catch-up pass now (on the delivery thread)."""
        self._inbox.put(self._run_periodic_now)

    def _unsubscribe(self, subscription: Subscription) -> None:
        with self._lock:
            if subscription.prefix:
                if subscription in self._prefixed:
                    metrics.listeners_changed(-1)
                self._prefixed = [s for s in self._prefixed if s is not subscription]
                return
            held = self._exact.get(subscription.topic, [])
            if subscription in held:
                metrics.listeners_changed(-1)
            left = [s for s in held if s is not subscription]
            if left:
                self._exact[subscription.topic] = left
            else:
                self._exact.pop(subscription.topic, None)

    # -- the delivery thread ---------------------------------------------------------------
    def _deliver(self) -> None:
        while True:
            now = time.monotonic()
            wait = min((p.due for p in self._periodic), default=now + 60.0) - now
            try:
                item = self._inbox.get(timeout=max(wait, 0.0))
            except queue.Empty:
                self._run_periodic(due_only=True)
                continue
            if item is None:
                return
            if isinstance(item, Notice):
                self._dispatch(item)
            else:
                self._call(item)

    def _dispatch(self, notice: Notice) -> None:
        with self._lock:
            targets = list(self._exact.get(notice.topic, ()))
            targets += [s for s in self._prefixed if notice.topic.startswith(s.topic)]
        for subscription in targets:
            try:
                subscription.callback(notice)
            except Exception:
                log.exception("an event subscriber failed", topic=notice.topic)

    def _run_periodic_now(self) -> None:
        self._run_periodic(due_only=False)

    def _run_periodic(self, *, due_only: bool) -> None:
        now = time.monotonic()
        for periodic in self._periodic:
            if due_only and periodic.due > now:
                continue
            periodic.due = now + periodic.seconds
            self._call(periodic.callback)

    @staticmethod
    def _call(callback: Callable[[], None]) -> None:
        try:
            callback()
        except Exception:
            log.exception("an event subscriber failed")
