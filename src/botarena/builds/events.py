"""A submission's build as a stream of events: each status it enters and each log line.

A stream joins its submission's feed (:mod:`botarena.builds.feed`), then reads what it missed
from the database and the log file, then goes on with what the feed hands it; it drops what it
already sent, by status row id and log offset. Each event carries an id, ``<status row
id>-<log offset>``: the last status sent and the log byte offset sent up to, after this event.
Both only grow along a stream, so the ids are ordered, and a client that comes back with the
last one it saw (``Last-Event-ID``) gets exactly what came after. The log offset is one into
the log of the build the status belongs to: a rebuild starts a fresh log, begun by its status
row, so a cursor from before a rebuild gets the new log from its first line (its status part
still only grows). The stream ends once the build is over and everything was sent.
"""

from __future__ import annotations

import asyncio
import json
import re
from collections.abc import AsyncIterator
from dataclasses import dataclass, replace
from typing import Any

from starlette.concurrency import run_in_threadpool

from botarena.builds.feed import (
    IN_PROGRESS,
    BuildFeeds,
    EndItem,
    Item,
    Listener,
    LogItem,
    StatusItem,
)
from botarena.errors import bad_request

MAX_STREAM_SECONDS = 3600.0
_CURSOR = re.compile(r"(\d{1,18})-(\d{1,18})")


@dataclass(frozen=True)
class Cursor:
    """Where a stream stands: the last status row sent and the log offset sent up to."""

    status_id: int = 0
    log_offset: int = 0

    def __str__(self) -> str:
        return f"{self.status_id}-{self.log_offset}"

    @classmethod
    def parse(cls, text: str | None) -> Cursor:
        """The cursor of an event id (``Last-Event-ID``); the start for none; 400 otherwise."""
        if text is None or not text.strip():
            return cls()
        match = _CURSOR.fullmatch(text.strip())
        if match is None:
            raise bad_request(
                "Last-Event-ID is not an id of this stream",
                "Send back the id of the last event received, such as '12-3456'.",
                "Last-Event-ID",
            )
        return cls(int(match[1]), int(match[2]))


async def build_events(
    feeds: BuildFeeds, submission_id: str, *, with_log: bool, after: Cursor | None = None
) -> AsyncIterator[tuple[Cursor, dict[str, Any]]]:
    """Status changes after ``after`` and, for those who may read it, the log's lines, each
    with the cursor to resume after it."""
    cursor = after or Cursor()
    listener = Listener(asyncio.get_running_loop(), with_log=with_log)
    try:
        backlog = await run_in_threadpool(
            feeds.open, submission_id, listener, cursor.status_id, cursor.log_offset
        )
        status = backlog.status
        # Where the listener stands in the log the backlog was read from (0 after a rebuild).
        cursor = replace(cursor, log_offset=backlog.log_from)
        missed: list[Item] = [*backlog.statuses, *backlog.lines]
        for item in missed:
            cursor, event = _step(cursor, item, with_log)
            if event is not None:
                yield cursor, event
        if status not in IN_PROGRESS:
            return
        deadline = asyncio.get_running_loop().time() + MAX_STREAM_SECONDS
        while True:
            left = deadline - asyncio.get_running_loop().time()
            try:
                items = await asyncio.wait_for(listener.queue.get(), max(left, 0.0))
            except TimeoutError:
                return
            for item in items:
                if isinstance(item, EndItem):
                    if status not in IN_PROGRESS:
                        return
                    continue
                cursor, event = _step(cursor, item, with_log)
                if event is None:
                    continue
                if isinstance(item, StatusItem):
                    status = item.status
                yield cursor, event
    finally:
        feeds.leave(submission_id, listener)


def _step(cursor: Cursor, item: Item, with_log: bool) -> tuple[Cursor, dict[str, Any] | None]:
    """The cursor after ``item`` and its event, or no event for one already sent."""
    if isinstance(item, StatusItem):
        if item.id <= cursor.status_id:
            return cursor, None
        event = {"type": "status", "status": item.status, "at": item.at}
        return replace(cursor, status_id=item.id), event
    if isinstance(item, LogItem) and with_log and item.end > cursor.log_offset:
        return replace(cursor, log_offset=item.end), {
            "type": "log",
            "line": item.line,
            "at": item.at,
        }
    return cursor, None


def as_sse(cursor: Cursor, event: dict[str, Any]) -> str:
    """One Server-Sent Event, with its id."""
    return f"id: {cursor}\nevent: {event['type']}\ndata: {json.dumps(event)}\n\n"
