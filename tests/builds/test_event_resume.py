"""Build event streams that join late or come back with Last-Event-ID: what they missed, then
what comes live, without a gap or a duplicate (a real server, so clients can leave mid-way)."""

from __future__ import annotations

import asyncio
import json
import threading
import time
from collections.abc import Callable, Iterator
from typing import Any

import httpx
import pytest
import websockets

from botarena.builds.feed import log_notifier
from botarena.builds.log import BuildLog
from botarena.settings import Settings
from botarena.storage import build_log_path

from support.streams import Event, Site, event_site


@pytest.fixture
def site(settings: Settings) -> Iterator[Site]:
    with event_site(settings) as served:
        yield served


def _what(events: list[Event]) -> list[tuple[str, str]]:
    return [(e["type"], e.get("status") or e.get("line") or "") for _id, e in events]


def _kind(events: list[Event], kind: str) -> list[str]:
    return [e.get("status") or e.get("line") or "" for _id, e in events if e["type"] == kind]


def _order(event_id: str) -> tuple[int, int]:
    status, offset = event_id.split("-")
    return int(status), int(offset)


def test_late_and_returning_listeners_miss_nothing_and_get_nothing_twice(
    site: Site, settings: Settings
) -> None:
    sub = site.submission()
    site.move(sub, "building")
    first: list[Event] = []
    late: list[Event] = []
    resumed: list[Event] = []
    listening, halfway = threading.Event(), threading.Event()

    def lines(count: int) -> Callable[[list[Event]], bool]:
        def seen(events: list[Event]) -> bool:
            listening.set()
            return sum(e["type"] == "log" for _id, e in events) >= count

        return seen

    def write() -> None:
        listening.wait(15)
        log = BuildLog(build_log_path(settings, sub), log_notifier(site.factory, sub))
        for index in range(300):
            log.write(f"line {index}")
            if index == 100:  # handed back and taken again, while lines flow
                site.move(sub, "pending", "building")
            if index == 150:
                halfway.set()
            time.sleep(0.004)
        log.close()
        site.move(sub, "success")

    writer = threading.Thread(target=write)
    writer.start()
    # The first listener leaves after 80 lines; it comes back when the build is half done.
    first = site.events(sub, until=lines(80))
    assert halfway.wait(30)
    comers = [
        threading.Thread(target=lambda: late.extend(site.events(sub))),
        threading.Thread(target=lambda: resumed.extend(site.events(sub, last=first[-1][0]))),
    ]
    for thread in comers:
        thread.start()
    writer.join()
    for thread in comers:
        thread.join(60)
    after_the_end = site.events(sub)

    statuses = ["pending", "building", "pending", "building", "success"]
    lines = [f"line {i}" for i in range(300)]
    # A stream sends what it missed first (statuses, then lines), then what comes live, so
    # statuses and lines interleave differently from one stream to another; each kind comes
    # whole, in order, once.
    for stream in (after_the_end, late, first + resumed):
        assert _kind(stream, "status") == statuses
        assert _kind(stream, "log") == lines
    ids = [_order(i) for i, _e in first + resumed]
    assert ids == sorted(ids) and len(set(ids)) == len(ids)
    # Coming back after the end: only what came after the id, then the stream ends.
    middle = after_the_end[150][0]
    assert _what(site.events(sub, last=middle)) == _what(after_the_end[151:])
    assert _what(after_the_end[:5]) == [("status", s) for s in statuses]


def test_websocket_resumes_with_last_event_id(site: Site, settings: Settings) -> None:
    sub = site.submission()
    site.move(sub, "building")
    log = BuildLog(build_log_path(settings, sub), log_notifier(site.factory, sub))
    for index in range(5):
        log.write(f"line {index}")
    log.close()
    site.move(sub, "build_failed")
    full = site.events(sub)
    assert [e["line"] for _i, e in full if e["type"] == "log"] == [f"line {i}" for i in range(5)]
    url = site.url.replace("http://", "ws://") + f"/api/v1/submissions/{sub}/events"
    got = asyncio.run(_socket(f"{url}?lastEventId={full[3][0]}", site.headers))
    assert [(m["id"], m["type"]) for m in got] == [(i, e["type"]) for i, e in full[4:]]


async def _socket(url: str, headers: dict[str, str]) -> list[dict[str, Any]]:
    """Every message of a WebSocket until the server closes it."""
    async with websockets.connect(url, additional_headers=headers) as socket:
        return [json.loads(message) async for message in socket]


def test_an_unknown_last_event_id_is_refused(site: Site) -> None:
    sub = site.submission()
    answer = httpx.get(
        f"{site.url}/api/v1/submissions/{sub}/events",
        headers={**site.headers, "Last-Event-ID": "yesterday"},
    )
    assert answer.status_code == 400
    assert answer.json()["error"] == "Last-Event-ID is not an id of this stream"
