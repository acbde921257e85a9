"""Build event streams across a rebuild's fresh log, on a real server and both databases: a
listener that comes between the rebuild and the worker, a client resuming with an id from the
first build, a rebuild not committed yet, and a feed whose log file is replaced under it."""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Iterator, Sequence

import httpx
import pytest

from botarena.builds import generations
from botarena.builds.feed import BuildFeeds, Item, Listener, LogItem, log_notifier
from botarena.builds.log import BuildLog
from botarena.settings import Settings
from botarena.storage import build_log_path, earlier_build_log_path

from support.streams import Event, Site, event_site

HEADER = "build 2 (a rebuild; the log of build 1 is kept)"
STATUSES = ["pending", "building", "success", "building", "success"]


@pytest.fixture
def site(settings: Settings) -> Iterator[Site]:
    with event_site(settings) as served:
        yield served


def _write(site: Site, settings: Settings, sub: str, lines: Sequence[str]) -> None:
    """What a worker does: lines appended to the log, each published."""
    log = BuildLog(build_log_path(settings, sub), log_notifier(site.factory, sub))
    for line in lines:
        log.write(line)
        time.sleep(0.002)
    log.close()


def _first_build(site: Site, settings: Settings, lines: int = 40) -> str:
    sub = site.submission()
    site.move(sub, "building")
    _write(site, settings, sub, [f"old {i}" for i in range(lines)])
    site.move(sub, "success")
    return sub


def _rebuild(site: Site, sub: str) -> None:
    answer = httpx.post(f"{site.url}/api/v1/submissions/{sub}/rebuild", headers=site.headers)
    assert answer.status_code == 200, answer.text


def _logs(events: list[Event]) -> list[str]:
    # The platform's own lines start with a time: compared without it.
    return [
        e["line"].split(" ", 2)[-1] if e["line"].startswith("==>") else e["line"]
        for _id, e in events
        if e["type"] == "log"
    ]


def _statuses(events: list[Event]) -> list[str]:
    return [e["status"] for _id, e in events if e["type"] == "status"]


def _ordered(events: list[Event]) -> bool:
    ids = [tuple(int(part) for part in i.split("-")) for i, _e in events]
    return ids == sorted(ids) and len(set(ids)) == len(ids)


def _listen(
    site: Site, sub: str, last: str | None = None
) -> tuple[threading.Thread, list[Event], threading.Event]:
    """A stream in a thread, to its end; ``heard`` is set at its first log line."""
    found: list[Event] = []
    heard = threading.Event()

    def seen(events: list[Event]) -> bool:
        if any(e["type"] == "log" for _i, e in events):
            heard.set()
        return False

    thread = threading.Thread(target=lambda: found.extend(site.events(sub, last=last, until=seen)))
    thread.start()
    return thread, found, heard


def test_a_listener_between_the_rebuild_and_the_worker_gets_the_new_build_whole(
    site: Site, settings: Settings
) -> None:
    sub = _first_build(site, settings)
    _rebuild(site, sub)
    # Connected before any worker took the build: it hears the fresh log's first line.
    thread, found, heard = _listen(site, sub)
    assert heard.wait(30)
    new = [f"new {i}" for i in range(60)]
    _write(site, settings, sub, new)
    site.move(sub, "success")
    thread.join(60)
    assert not thread.is_alive()
    assert _statuses(found) == STATUSES
    assert _logs(found) == [HEADER, *new]
    assert _ordered(found)


def test_resuming_with_an_id_of_the_first_build_gets_the_new_log_from_its_start(
    site: Site, settings: Settings
) -> None:
    sub = _first_build(site, settings)
    first = site.events(sub)
    assert _logs(first) == [f"old {i}" for i in range(40)]
    last, middle = first[-1][0], first[len(first) // 2][0]
    _rebuild(site, sub)
    # One comes back while the new build runs, from the very end of the first stream.
    thread, live, heard = _listen(site, sub, last=last)
    assert heard.wait(30)
    new = [f"new {i}" for i in range(30)]
    _write(site, settings, sub, new)
    site.move(sub, "success")
    thread.join(60)
    assert _statuses(live) == ["building", "success"]
    assert _logs(live) == [HEADER, *new]
    assert _ordered(first[-1:] + live)
    # Another comes back after the end, from the middle of the first build's log.
    after = site.events(sub, last=middle)
    assert _statuses(after) == ["building", "success"]
    assert _logs(after) == [HEADER, *new]
    assert _ordered(first[: len(first) // 2 + 1] + after)


def test_a_rebuild_not_committed_yet_leaves_readers_the_build_they_see(
    site: Site, settings: Settings
) -> None:
    sub = _first_build(site, settings, lines=10)
    # What a rebuild does before its commit: a reader sees the first build, finished.
    rotation = generations.begin(settings, sub, status_id=10**9)
    try:
        seen = site.events(sub)
        assert _statuses(seen) == ["pending", "building", "success"]
        assert _logs(seen) == [f"old {i}" for i in range(10)]
    finally:
        rotation.undo()
    assert not earlier_build_log_path(settings, sub, 1).exists()
    assert _logs(site.events(sub)) == [f"old {i}" for i in range(10)]


class _Collecting(Listener):
    """A listener whose items are kept in a list (no event loop reads them)."""

    def __init__(self) -> None:
        super().__init__(asyncio.new_event_loop(), with_log=True)
        self.lines: list[str] = []
        self.changed = threading.Condition()

    def put(self, items: Sequence[Item]) -> None:
        with self.changed:
            self.lines.extend(item.line for item in items if isinstance(item, LogItem))
            self.changed.notify_all()

    def wait_for(self, lines: list[str], seconds: float = 30) -> None:
        with self.changed:
            self.changed.wait_for(lambda: self.lines[-len(lines) :] == lines, seconds)
        assert self.lines[-len(lines) :] == lines, self.lines


def test_a_feed_reads_a_replaced_or_cut_log_from_its_start(site: Site, settings: Settings) -> None:
    sub = site.submission()
    site.move(sub, "building")
    feeds: BuildFeeds = site.app.state.build_feeds
    listener = _Collecting()
    feeds.open(sub, listener, 0, 0)
    try:
        path = build_log_path(settings, sub)
        _write(site, settings, sub, [f"first {i}" for i in range(20)])
        listener.wait_for([f"first {i}" for i in range(20)])
        # Replaced by a longer file: another file, whatever its size.
        path.rename(path.with_name("away.log"))
        longer = [f"a longer second file, line {i}" for i in range(30)]
        _write(site, settings, sub, longer)
        listener.wait_for(longer)
        # Cut: shorter than where the feed stood.
        path.write_text("")
        _write(site, settings, sub, ["after the cut"])
        listener.wait_for(["after the cut"])
        # Replaced by a writer that publishes nothing: the catch-up pass finds it.
        path.rename(path.with_name("away2.log"))
        quiet = BuildLog(path)
        quiet.write("unannounced")
        quiet.close()
        listener.wait_for(["unannounced"])
    finally:
        feeds.leave(sub, listener)
        listener.loop.close()
