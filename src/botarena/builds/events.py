"""A submission's build as a stream of events: each status it enters and each log line.

The stream reads what the database and the log file hold, a few times a second, so it works
whichever process builds; it ends once the build is over and everything was sent.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import select
from starlette.concurrency import run_in_threadpool

from botarena.agents.models import Submission, SubmissionStatusEvent
from botarena.agents.status import SubmissionStatus
from botarena.clock import utcnow
from botarena.db.engine import SessionFactory, read_factory
from botarena.settings import Settings
from botarena.storage import build_log_path

POLL_SECONDS = 0.2
MAX_STREAM_SECONDS = 3600.0
_IN_PROGRESS = {SubmissionStatus.PENDING.value, SubmissionStatus.BUILDING.value}


@dataclass
class _Cursor:
    event_id: int = 0
    log_offset: int = 0
    partial: bytes = b""


async def build_events(
    factory: SessionFactory, settings: Settings, submission_id: str, *, with_log: bool
) -> AsyncIterator[dict[str, Any]]:
    """Status changes (from the first one) and, for those who may read it, the log's lines."""
    cursor = _Cursor()
    # A stream only reads: on SQLite its polls must never take (or wait for) the write lock.
    factory = read_factory(factory)
    path = build_log_path(settings, submission_id)
    loop = asyncio.get_running_loop()
    deadline = loop.time() + MAX_STREAM_SECONDS
    while True:
        events, status = await run_in_threadpool(_status_events, factory, submission_id, cursor)
        for event in events:
            yield event
        if with_log:
            for line in await run_in_threadpool(_new_lines, path, cursor):
                yield {"type": "log", "line": line, "at": _now()}
        if status not in _IN_PROGRESS or loop.time() > deadline:
            return
        await asyncio.sleep(POLL_SECONDS)


def _status_events(
    factory: SessionFactory, submission_id: str, cursor: _Cursor
) -> tuple[list[dict[str, Any]], str | None]:
    with factory() as session:
        rows = session.scalars(
            select(SubmissionStatusEvent)
            .where(
                SubmissionStatusEvent.submission_id == submission_id,
                SubmissionStatusEvent.id > cursor.event_id,
            )
            .order_by(SubmissionStatusEvent.id)
        ).all()
        status = session.scalar(select(Submission.status).where(Submission.id == submission_id))
    events = []
    for row in rows:
        cursor.event_id = row.id
        events.append({"type": "status", "status": row.status, "at": row.at.isoformat()})
    return events, status


def _new_lines(path: Path, cursor: _Cursor) -> list[str]:
    try:
        with path.open("rb") as handle:
            handle.seek(cursor.log_offset)
            data = handle.read(1024 * 1024)
    except FileNotFoundError:
        return []
    cursor.log_offset += len(data)
    data = cursor.partial + data
    *complete, cursor.partial = data.split(b"\n")
    return [line.decode("utf-8", errors="replace") for line in complete]


def _now() -> str:
    return utcnow().isoformat()


def as_sse(event: dict[str, Any]) -> str:
    """One Server-Sent Event."""
    return f"event: {event['type']}\ndata: {json.dumps(event)}\n\n"
