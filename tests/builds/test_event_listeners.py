"""Many listeners of one build cost the server what one does: the same database statements
and the same log reads over the same five seconds of build, 200 listeners or 1 (the streams
share one feed per process; nothing polls per listener), and while the build is quiet. The
server's CPU time over each window is measured and printed, not asserted (timings belong to
bench/): idle listeners cost none, and each event costs its delivery to each listener."""

from __future__ import annotations

import asyncio
import itertools
import json
import time
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import Engine, event

from botarena.accounts.service import AccountService
from botarena.app import create_app
from botarena.builds.feed import BuildFeeds, log_notifier
from botarena.builds.log import BuildLog
from botarena.db.engine import SessionFactory, session_scope
from botarena.settings import Settings
from botarena.storage import build_log_path

from support.streams import Site
from support.threaded import serving

WINDOW_SECONDS = 5.0
LINES = 50
IDLE_SECONDS = 2.0
# Statements of the window that do not depend on the listeners: the catch-up pass runs
# every few seconds, so one window may hold one pass more than the other.
SLACK = 6


@dataclass
class Window:
    """What the server did while ``listeners`` streams listened to one build."""

    listeners: int
    statements: int
    log_reads: int
    server_cpu: float
    lines_each: list[int]
    idle_statements: int
    idle_cpu: float


class Server:
    def __init__(self, app: FastAPI, url: str, token: str) -> None:
        self.app, self.url, self.headers = app, url, {"Authorization": f"Bearer {token}"}
        self.site = Site(app, url, self.headers)
        self.factory: SessionFactory = app.state.session_factory
        self.settings: Settings = app.state.settings
        self.feeds: BuildFeeds = app.state.build_feeds
        self.statements = itertools.count()
        engine: Engine = app.state.engine
        event.listen(engine, "before_cursor_execute", self._counted)

    def _counted(self, *_args: Any) -> None:
        next(self.statements)

    def count(self) -> int:
        # itertools.count has no reader: reading advances it, by one, which is subtracted.
        return next(self.statements)

    def building_submission(self) -> str:
        sub = self.site.submission()
        self.site.move(sub, "building")
        return sub

    def build_for_a_while(self, sub: str) -> float:
        """Five seconds of a build: a log line every tenth of a second, a hand-back halfway.
        Returns the CPU time this thread used."""
        started = time.thread_time()
        log = BuildLog(build_log_path(self.settings, sub), log_notifier(self.factory, sub))
        for index in range(LINES):
            log.write(f"Collecting package-{index}")
            if index == LINES // 2:
                self.site.move(sub, "pending", "building")
            time.sleep(WINDOW_SECONDS / LINES)
        log.close()
        return time.thread_time() - started


@pytest.fixture
def server(settings: Settings) -> Iterator[Server]:
    app = create_app(settings)
    with serving(app) as url:
        with session_scope(app.state.session_factory) as session:
            _user, issued = AccountService(session).create_user("alice", "alice-password")
        yield Server(app, url, issued.secret)


async def _hold(server: Server, listeners: int) -> Window:
    sub = server.building_submission()
    url = f"{server.url}/api/v1/submissions/{sub}/events"
    heard = [0] * listeners
    lines = [0] * listeners
    everyone = asyncio.Event()

    async def listen(index: int, client: httpx.AsyncClient) -> None:
        async with client.stream("GET", url, headers=server.headers) as answer:
            async for line in answer.aiter_lines():
                if not line.startswith("data: "):
                    continue
                heard[index] += 1
                if all(heard):
                    everyone.set()
                if json.loads(line[len("data: ") :])["type"] == "log":
                    lines[index] += 1

    limits = httpx.Limits(max_connections=None, max_keepalive_connections=None)
    async with httpx.AsyncClient(limits=limits, timeout=120) as client:
        streams = [asyncio.create_task(listen(i, client)) for i in range(listeners)]
        await asyncio.wait_for(everyone.wait(), 60)
        # First a quiet spell: listeners waiting for a build that writes nothing.
        idle_statements, cpu, own = server.count(), time.process_time(), time.thread_time()
        await asyncio.sleep(IDLE_SECONDS)
        idle_statements = server.count() - idle_statements - 1
        idle_cpu = time.process_time() - cpu - (time.thread_time() - own)
        statements, reads = server.count(), server.feeds.log_reads
        cpu, own = time.process_time(), time.thread_time()
        builder_cpu = await asyncio.to_thread(server.build_for_a_while, sub)
        statements = server.count() - statements - 1
        reads = server.feeds.log_reads - reads
        server_cpu = time.process_time() - cpu - (time.thread_time() - own) - builder_cpu
        deadline = time.monotonic() + 30
        while min(lines) < LINES and time.monotonic() < deadline:
            await asyncio.sleep(0.1)
        for stream in streams:
            stream.cancel()
        await asyncio.gather(*streams, return_exceptions=True)
    return Window(listeners, statements, reads, server_cpu, lines, idle_statements, idle_cpu)


def test_200_listeners_cost_the_server_what_one_does(server: Server) -> None:
    one = asyncio.run(_hold(server, 1))
    many = asyncio.run(_hold(server, 200))
    for window in (one, many):
        print(
            f"{window.listeners} listener(s) for {WINDOW_SECONDS:g} s: "
            f"{window.statements} SQL statements, {window.log_reads} log reads, "
            f"server CPU {window.server_cpu:.2f} s; idle for {IDLE_SECONDS:g} s: "
            f"{window.idle_statements} SQL statements, server CPU {window.idle_cpu:.2f} s"
        )
        assert window.lines_each == [LINES] * window.listeners  # every line reached everyone
    assert one.statements > 0  # the build's own writes are counted
    assert many.statements <= one.statements + SLACK
    assert many.log_reads <= one.log_reads + SLACK
    assert many.idle_statements <= one.idle_statements + SLACK
