"""The live blocks: a page's block sent again over SSE when its topic fires on the bus."""

from __future__ import annotations

import socket
import threading
from collections.abc import Iterator
from dataclasses import dataclass

import httpx
import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from botarena.accounts.service import AccountService
from botarena.app import create_app
from botarena.db.engine import SessionFactory
from botarena.settings import Settings
from botarena.web.renders import SharedRenders

from support.accounts import Account
from support.api import create_agent, submit_url
from support.competitors import pretend_built
from support.pages import parse, play_ranked
from support.threaded import serving

# Reads through queries (or, live, notices) no other test runs on PostgreSQL.
BOTH_DATABASES = True


@dataclass
class Live:
    app: FastAPI
    url: str
    client: TestClient  # the same app, in this thread (its lifespan runs in the server)
    admin: Account
    alice: Account

    @property
    def factory(self) -> SessionFactory:
        factory: SessionFactory = self.app.state.session_factory
        return factory


@pytest.fixture
def live(settings: Settings) -> Iterator[Live]:
    app = create_app(settings)
    with serving(app) as url:
        factory: SessionFactory = app.state.session_factory
        accounts = []
        with factory() as session:
            for name, admin in (("root", True), ("alice", False)):
                user, issued = AccountService(session).create_user(name, None, admin=admin)
                accounts.append(Account(user.id, user.username, issued.secret))
        yield Live(app, url, TestClient(app), *accounts)


Event = tuple[str, str]  # (name, data)


class Stream:
    """An SSE stream read on a thread of its own; its events collected as they arrive."""

    def __init__(self, url: str, headers: dict[str, str] | None = None) -> None:
        self.events: list[Event] = []
        self.opened = threading.Event()
        self.arrived = threading.Condition()
        self._response: httpx.Response | None = None
        self._closing = False
        self._thread = threading.Thread(target=self._read, args=(url, headers or {}), daemon=True)
        self._thread.start()
        assert self.opened.wait(20), "the stream did not open"

    def _read(self, url: str, headers: dict[str, str]) -> None:
        try:
            self._events(url, headers)
        except httpx.HTTPError:
            if not self._closing:
                raise

    def _events(self, url: str, headers: dict[str, str]) -> None:
        with httpx.stream("GET", url, headers=headers, timeout=60) as answer:
            self._response = answer
            assert answer.headers["content-type"].startswith("text/event-stream")
            name, data = "", []
            for line in answer.iter_lines():
                if line.startswith("retry:"):
                    self.opened.set()
                elif line.startswith("event: "):
                    name = line.removeprefix("event: ")
                elif line.startswith("data: "):
                    data.append(line.removeprefix("data: "))
                elif line == "" and name:
                    with self.arrived:
                        self.events.append((name, "\n".join(data)))
                        self.arrived.notify_all()
                    name, data = "", []

    def wait_for(self, name: str, count: int = 1, timeout: float = 20) -> list[str]:
        """The data of the first ``count`` events named ``name``, once they arrived."""
        with self.arrived:
            assert self.arrived.wait_for(
                lambda: sum(n == name for n, _ in self.events) >= count, timeout
            ), f"no {name} event among {[n for n, _ in self.events]}"
            return [data for n, data in self.events if n == name][:count]

    def close(self) -> None:
        """Hang up: the socket shut from this thread wakes the reader blocked on it."""
        self._closing = True
        if self._response is not None:
            connection = self._response.extensions["network_stream"]
            connection.get_extra_info("socket").shutdown(socket.SHUT_RDWR)
        self._thread.join(20)


def test_the_leaderboard_stream_sends_the_board_after_a_rating_changes(
    live: Live, settings: Settings
) -> None:
    first, _ = pretend_built(live.client, live.factory, live.alice, "first")
    second, _ = pretend_built(live.client, live.factory, live.alice, "second")
    stream = Stream(f"{live.url}/live/games/connectx?sort=-games")
    try:
        assert stream.events == []  # nothing is sent before something changes
        play_ranked(live.client, live.factory, settings, live.admin, (second, first), 0)
        (html,) = stream.wait_for("board_body")
        page = parse(html)
        names = [a.text for a in page.all("a") if a.attrs["href"].startswith("/agents/")]
        assert names == ["second", "first"]
        assert page.all("table", class_="leaderboard")
        # The block alone, not a page.
        assert "<html" not in html and "<section" not in html
        play_ranked(live.client, live.factory, settings, live.admin, (first, second), 0)
        play_ranked(live.client, live.factory, settings, live.admin, (first, second), 0)
        latest = stream.wait_for("board_body", 2)[-1]
        games = [td.text for td in parse(latest).all("td")][7::13]
        assert games == ["3", "3"]
    finally:
        stream.close()


def test_another_games_ratings_send_nothing(live: Live, settings: Settings) -> None:
    first, _ = pretend_built(live.client, live.factory, live.alice, "first")
    second, _ = pretend_built(live.client, live.factory, live.alice, "second")
    quiet = Stream(f"{live.url}/live/games/rps")
    loud = Stream(f"{live.url}/live/games/connectx")
    try:
        play_ranked(live.client, live.factory, settings, live.admin, (first, second), 1)
        loud.wait_for("board_body")
        assert quiet.events == []
    finally:
        quiet.close()
        loud.close()


def test_the_front_page_stream_sends_counters_and_the_latest(
    live: Live, settings: Settings
) -> None:
    first, _ = pretend_built(live.client, live.factory, live.alice, "first")
    second, _ = pretend_built(live.client, live.factory, live.alice, "second")
    stream = Stream(f"{live.url}/live/home")
    try:
        submit_url(live.client, live.alice, create_agent(live.client, live.alice, "waiting"))
        (counters,) = stream.wait_for("counters")
        assert parse(counters).text.startswith("Builds queued 1 Building 0")
        play_ranked(live.client, live.factory, settings, live.admin, (first, second), 0)
        tops = parse(stream.wait_for("tops")[-1]).text
        assert tops.index("first") < tops.index("second")
        recent = stream.wait_for("recent")[-1]
        assert "first vs second" in parse(recent).text
    finally:
        stream.close()


def test_a_client_coming_back_gets_every_block_at_once(live: Live) -> None:
    stream = Stream(f"{live.url}/live/home", headers={"Last-Event-ID": "7"})
    try:
        for name in ("counters", "tops", "recent"):
            stream.wait_for(name)
    finally:
        stream.close()


def test_a_stream_of_an_unknown_game_is_a_404(live: Live) -> None:
    answer = httpx.get(f"{live.url}/live/games/chess", timeout=20)
    assert answer.status_code == 404


def test_many_listeners_of_one_board_share_one_render(live: Live, settings: Settings) -> None:
    first, _ = pretend_built(live.client, live.factory, live.alice, "first")
    second, _ = pretend_built(live.client, live.factory, live.alice, "second")
    streams = [Stream(f"{live.url}/live/games/connectx") for _ in range(6)]
    renders: SharedRenders = live.app.state.web_renders
    try:
        before = renders.renders
        play_ranked(live.client, live.factory, settings, live.admin, (first, second), 0)
        sent = {stream.wait_for("board_body")[0] for stream in streams}
        assert len(sent) == 1
        # Every stream woke for the same notice; the block was read and rendered once or,
        # should one stream wake late, twice, never once per stream.
        assert renders.renders - before in (1, 2)
    finally:
        for stream in streams:
            stream.close()
