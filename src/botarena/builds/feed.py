"""The build streams of one process: one reader per submission, shared by all its listeners.

Every listener of a submission's events joins that submission's feed. The feed hears the bus
(``submission:<id>``: a status entered, the log grew), reads what is new once (the log's new
bytes, in whole lines) and hands it to each of its listeners' queues; no listener polls. A
catch-up pass every few seconds (one query for all watched submissions, one ``stat`` per
watched log) covers notices that never came: a relay reconnecting, a log written by a process
that does not publish.

A rebuild replaces the log with a fresh one (:mod:`botarena.builds.generations`): a feed whose
file changed identity or shrank reads the new one from its start, and a listener whose status
cursor is older than the row that began the current log reads that log from its start (its
log offset was one into an earlier build's log).
"""

from __future__ import annotations

import asyncio
import contextlib
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from sqlalchemy import select

from botarena.agents.models import Submission, SubmissionStatusEvent
from botarena.agents.status import SubmissionStatus
from botarena.builds import generations
from botarena.builds.logfile import Identity, file_state, last_line_end, read_lines
from botarena.clock import utcnow
from botarena.db.engine import SessionFactory
from botarena.events import EventBus, Notice, bus_for
from botarena.events.notice import Scalar
from botarena.settings import Settings
from botarena.storage import build_log_path, earlier_build_log_path

TOPIC_PREFIX = "submission:"
IN_PROGRESS = frozenset({SubmissionStatus.PENDING.value, SubmissionStatus.BUILDING.value})
CATCH_UP_SECONDS = 2.0


def submission_topic(submission_id: str) -> str:
    return f"{TOPIC_PREFIX}{submission_id}"


def status_notices(row: SubmissionStatusEvent) -> list[Notice]:
    """The notice of a status a submission entered (a watcher of the bus)."""
    data: dict[str, Scalar] = {"id": row.id, "status": row.status, "at": row.at.isoformat()}
    return [Notice(submission_topic(row.submission_id), data)]


def log_notifier(factory: SessionFactory, submission_id: str) -> Callable[[int], None]:
    """What a build log calls with its new size: tells the bus of ``factory``, if any."""
    bus = bus_for(factory)
    topic = submission_topic(submission_id)

    def grew(size: int) -> None:
        if bus is not None:
            bus.publish(Notice(topic, {"log": size}, latest=True))

    return grew


@dataclass(frozen=True)
class StatusItem:
    id: int
    status: str
    at: str


@dataclass(frozen=True)
class LogItem:
    end: int  # the byte offset just after this line
    line: str
    at: str


@dataclass(frozen=True)
class EndItem:
    """The build ended and everything it wrote was handed out."""


Item = StatusItem | LogItem | EndItem


class Listener:
    """One stream's queue, filled from the feed's thread, read in the stream's event loop."""

    def __init__(self, loop: asyncio.AbstractEventLoop, *, with_log: bool) -> None:
        self.loop = loop
        self.with_log = with_log
        self.queue: asyncio.Queue[Sequence[Item]] = asyncio.Queue()
        # Where the feed's log reader stood when this listener joined: the backlog ends there.
        self.log_start = 0

    def put(self, items: Sequence[Item]) -> None:
        # A closed event loop refuses the call: its stream is gone.
        with contextlib.suppress(RuntimeError):
            self.loop.call_soon_threadsafe(self.queue.put_nowait, items)


@dataclass
class Backlog:
    """What a listener missed: statuses after its cursor, the status now, log lines; and the
    log offset its cursor stands at in the log those lines come from."""

    statuses: list[StatusItem]
    status: str | None
    lines: list[LogItem]
    log_from: int


@dataclass(eq=False)
class _Feed:
    path: Path
    identity: Identity | None
    offset: int
    last_status: int = 0
    listeners: set[Listener] = field(default_factory=set)

    def log_listeners(self) -> list[Listener]:
        return [listener for listener in self.listeners if listener.with_log]


class BuildFeeds:
    """The feeds of this process, on ``bus``; streams read their backlogs through ``factory``
    (a reading session factory)."""

    def __init__(self, bus: EventBus, factory: SessionFactory, settings: Settings) -> None:
        self.factory = factory
        self.settings = settings
        self._lock = threading.Lock()
        self._feeds: dict[str, _Feed] = {}
        # Log reads so far: one per growth of a watched log, however many listen.
        self.log_reads = 0
        bus.subscribe(TOPIC_PREFIX, self._heard, prefix=True)
        bus.every(CATCH_UP_SECONDS, self._catch_up)

    # -- listeners (called from streams, in a worker thread) -------------------------------
    def open(
        self, submission_id: str, listener: Listener, after_status: int, after_log: int
    ) -> Backlog:
        """Join the feed first, then read what the listener missed: whatever happens from
        now on reaches its queue, so nothing falls between (duplicates are the stream's to
        drop, by id and offset)."""
        path = build_log_path(self.settings, submission_id)
        with self._lock:
            feed = self._feeds.get(submission_id)
            if feed is None:
                identity, _size = file_state(path)
                feed = self._feeds[submission_id] = _Feed(path, identity, last_line_end(path))
            else:
                # Its offset must be one into the log there now, where the backlog ends.
                self._read_log(feed)
            listener.log_start = feed.offset
            feed.listeners.add(listener)
        with self.factory() as session:
            rows = session.scalars(
                select(SubmissionStatusEvent)
                .where(
                    SubmissionStatusEvent.submission_id == submission_id,
                    SubmissionStatusEvent.id > after_status,
                )
                .order_by(SubmissionStatusEvent.id)
            ).all()
            status = session.scalar(select(Submission.status).where(Submission.id == submission_id))
        statuses = [StatusItem(row.id, row.status, row.at.isoformat()) for row in rows]
        # Read after the rows: a rebuild whose row they hold has begun its log already.
        generation = generations.current(self.settings, submission_id)
        seen = max([after_status, *(row.id for row in rows)])
        # A finished build writes no more: its log is read to the end.
        until = listener.log_start if status in IN_PROGRESS else None
        log_from = after_log
        if generation.began_with > seen:
            # A rebuild began a fresh log but is not committed yet (or was undone): the build
            # these rows describe is the one before, whose log is kept.
            path = earlier_build_log_path(self.settings, submission_id, generation.number - 1)
            until = None
        elif after_status < generation.began_with:
            log_from = 0  # the cursor's offset is one into an earlier build's log
        lines: list[LogItem] = []
        if listener.with_log:
            at = utcnow().isoformat()
            lines = [LogItem(end, text, at) for end, text in read_lines(path, log_from, until)]
        return Backlog(statuses, status, lines, log_from)

    def leave(self, submission_id: str, listener: Listener) -> None:
        with self._lock:
            feed = self._feeds.get(submission_id)
            if feed is None:
                return
            feed.listeners.discard(listener)
            if not feed.listeners:
                del self._feeds[submission_id]

    def watched(self) -> int:
        """How many submissions have listeners in this process."""
        with self._lock:
            return len(self._feeds)

    # -- the bus's thread ------------------------------------------------------------------
    def _heard(self, notice: Notice) -> None:
        submission_id = notice.topic[len(TOPIC_PREFIX) :]
        data = notice.data
        with self._lock:
            feed = self._feeds.get(submission_id)
            if feed is None:
                return
            if "status" in data:
                self._entered(feed, int(data["id"] or 0), str(data["status"]), str(data["at"]))
            elif "log" in data:
                self._read_log(feed)

    def _entered(self, feed: _Feed, status_id: int, status: str, at: str) -> None:
        if status_id <= feed.last_status:
            return
        feed.last_status = status_id
        for listener in feed.listeners:
            listener.put([StatusItem(status_id, status, at)])
        if status not in IN_PROGRESS:
            self._read_log(feed)
            for listener in feed.listeners:
                listener.put([EndItem()])

    def _read_log(self, feed: _Feed) -> None:
        """Hand out the log's new whole lines; a log replaced (a rebuild's fresh one) or cut
        is read from its start."""
        identity, size = file_state(feed.path)
        readers = feed.log_listeners()
        if identity != feed.identity or size < feed.offset:
            feed.identity = identity
            # With no reader here yet, the lines so far are the backlog of whoever joins.
            feed.offset = 0 if readers else last_line_end(feed.path)
        if not readers or size <= feed.offset:
            return
        self.log_reads += 1
        at = utcnow().isoformat()
        items = [LogItem(end, text, at) for end, text in read_lines(feed.path, feed.offset, None)]
        if not items:
            return
        feed.offset = items[-1].end
        for listener in readers:
            listener.put(items)

    def _catch_up(self) -> None:
        with self._lock:
            marks = {sid: feed.last_status for sid, feed in self._feeds.items()}
        if not marks:
            return
        with self.factory() as session:
            rows = session.execute(
                select(
                    SubmissionStatusEvent.submission_id,
                    SubmissionStatusEvent.id,
                    SubmissionStatusEvent.status,
                    SubmissionStatusEvent.at,
                )
                .where(
                    SubmissionStatusEvent.submission_id.in_(marks),
                    SubmissionStatusEvent.id > min(marks.values()),
                )
                .order_by(SubmissionStatusEvent.id)
            ).all()
        with self._lock:
            for submission_id, status_id, status, at in rows:
                feed = self._feeds.get(submission_id)
                if feed is not None:
                    self._entered(feed, status_id, status, at.isoformat())
            for feed in self._feeds.values():
                self._read_log(feed)
