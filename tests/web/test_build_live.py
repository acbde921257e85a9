"""A build's live stream for its page, through a real server: each log line as an escaped
``<li>`` (owner only), the status block at each status, ``done`` at the end, ids that resume."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from dataclasses import dataclass

import httpx
import pytest
from fastapi import FastAPI

from botarena.accounts.service import AccountService
from botarena.agents.models import Submission
from botarena.agents.status import SubmissionStatus
from botarena.app import create_app
from botarena.builds.feed import log_notifier
from botarena.builds.log import BuildLog
from botarena.db.engine import SessionFactory, session_scope
from botarena.settings import Settings
from botarena.storage import build_log_path

from support.pages import parse
from support.threaded import serving

Event = tuple[str, str, str]  # (id, name, data)


@dataclass
class Server:
    app: FastAPI
    url: str
    owner: httpx.Client  # signed in through the form: the session cookie
    token: str

    @property
    def factory(self) -> SessionFactory:
        factory: SessionFactory = self.app.state.session_factory
        return factory

    def building(self) -> str:
        headers = {"Authorization": f"Bearer {self.token}"}
        agent = httpx.post(
            f"{self.url}/api/v1/agents", json={"name": "live", "game": "connectx"}, headers=headers
        ).json()["id"]
        answer = httpx.post(
            f"{self.url}/api/v1/submissions",
            json={"agentId": agent, "codeUrl": "https://git.example.com/a/b"},
            headers=headers,
        )
        sub: str = answer.json()["submission"]["id"]
        self.move(sub, "building")
        return sub

    def move(self, sub: str, status: str) -> None:
        with self.factory() as session:
            row = session.get(Submission, sub)
            assert row is not None
            row.move_to(SubmissionStatus(status))
            session.commit()


@pytest.fixture
def server(settings: Settings) -> Iterator[Server]:
    app = create_app(settings)
    with serving(app) as url:
        with session_scope(app.state.session_factory) as session:
            _user, issued = AccountService(session).create_user("alice", "alice-password")
        with httpx.Client(base_url=url, timeout=30) as owner:
            login = parse(owner.get("/login").text).csrf()
            form = {"csrf_token": login, "username": "alice", "password": "alice-password"}
            assert owner.post("/login", data=form).status_code == 303
            yield Server(app, url, owner, issued.secret)


class Reader:
    """An SSE stream read on its own thread until its ``done`` event."""

    def __init__(self, client: httpx.Client, path: str, headers: dict[str, str]) -> None:
        self.events: list[Event] = []
        self.opened = threading.Event()
        self.arrived = threading.Condition()
        self._thread = threading.Thread(target=self._read, args=(client, path, headers))
        self._thread.daemon = True
        self._thread.start()
        assert self.opened.wait(20), "the stream did not open"

    def _read(self, client: httpx.Client, path: str, headers: dict[str, str]) -> None:
        with client.stream("GET", path, headers=headers, timeout=60) as answer:
            assert answer.status_code == 200
            event_id, name, data = "", "", []
            for line in answer.iter_lines():
                if line.startswith("retry:"):
                    self.opened.set()
                elif line.startswith("id: "):
                    event_id = line.removeprefix("id: ")
                elif line.startswith("event: "):
                    name = line.removeprefix("event: ")
                elif line.startswith("data: "):
                    data.append(line.removeprefix("data: "))
                elif line == "" and name:
                    with self.arrived:
                        self.events.append((event_id, name, "\n".join(data)))
                        self.arrived.notify_all()
                    name, data = "", []

    def until(self, name: str) -> list[Event]:
        with self.arrived:
            assert self.arrived.wait_for(lambda: any(n == name for _, n, _ in self.events), 30)
            return list(self.events)

    def finish(self) -> list[Event]:
        self._thread.join(30)
        assert not self._thread.is_alive(), "the stream did not end after the build"
        return self.events


def _sse_path(server: Server, client: httpx.Client, sub: str) -> str:
    page = parse(client.get(f"/submissions/{sub}").text)
    (wrapper,) = [e for e in page.elements if "sse-connect" in e.attrs]
    return wrapper.attrs["sse-connect"]


def test_the_owner_gets_log_lines_as_text_then_the_status_then_done(server: Server) -> None:
    sub = server.building()
    settings: Settings = server.app.state.settings
    log = BuildLog(build_log_path(settings, sub), log_notifier(server.factory, sub))
    log.write("already written")
    path = _sse_path(
        server, server.owner, sub
    )  # the page shows that line: the stream starts after it
    owner = Reader(server.owner, path, {})
    with httpx.Client(base_url=server.url, timeout=30) as anonymous_client:
        anonymous = Reader(anonymous_client, _sse_path(server, anonymous_client, sub), {})
        log.write("<script>alert(1)</script> \x1b[32mok\x1b[0m")
        events = owner.until("log")
        server.move(sub, "success")
        log.close()
        events = owner.finish()
        others = anonymous.finish()
    names = [name for _, name, _ in events]
    assert names == ["log", "status", "done"]
    line = events[0][2]
    assert line == "<li>&lt;script&gt;alert(1)&lt;/script&gt; ok</li>"
    status = parse(events[1][2]).text
    assert status.startswith("Status: success")
    assert [name for _, name, _ in others] == ["status", "done"]  # no log for others
    # Back with the id of the log line: only what came after it.
    resumed = Reader(server.owner, f"/live/submissions/{sub}", {"Last-Event-ID": events[0][0]})
    assert [name for _, name, _ in resumed.finish()] == ["status", "done"]


def test_a_stream_of_an_unknown_submission_is_a_404(server: Server) -> None:
    assert server.owner.get("/live/submissions/sub_nosuch").status_code == 404
