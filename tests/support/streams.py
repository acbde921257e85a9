"""A real server for build event streams: submissions walked by hand, SSE read as (id, event)."""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import httpx
from fastapi import FastAPI

from botarena.accounts.service import AccountService
from botarena.agents.models import Submission
from botarena.agents.status import SubmissionStatus
from botarena.app import create_app
from botarena.db.engine import SessionFactory, session_scope
from botarena.settings import Settings

from support.threaded import serving

Event = tuple[str, dict[str, Any]]


@dataclass
class Site:
    app: FastAPI
    url: str
    headers: dict[str, str]

    @property
    def factory(self) -> SessionFactory:
        factory: SessionFactory = self.app.state.session_factory
        return factory

    def submission(self) -> str:
        """A new agent's submission, pending."""
        agent = httpx.post(
            f"{self.url}/api/v1/agents",
            json={"name": f"bot-{time.monotonic_ns()}", "game": "connectx"},
            headers=self.headers,
            timeout=30,
        ).json()["id"]
        answer = httpx.post(
            f"{self.url}/api/v1/submissions",
            json={"agentId": agent, "codeUrl": "https://git.example.com/a/b"},
            headers=self.headers,
            timeout=30,
        )
        assert answer.status_code == 201, answer.text
        sub_id: str = answer.json()["submission"]["id"]
        return sub_id

    def move(self, sub: str, *statuses: str) -> None:
        with self.factory() as session:
            row = session.get(Submission, sub)
            assert row is not None
            for status in statuses:
                row.move_to(SubmissionStatus(status))
                session.flush()
            session.commit()

    def events(
        self,
        sub: str,
        *,
        last: str | None = None,
        until: Callable[[list[Event]], bool] | None = None,
    ) -> list[Event]:
        """(id, event) pairs of the SSE stream, to its end or until ``until(events)``."""
        headers = {**self.headers, "Accept": "text/event-stream"}
        if last is not None:
            headers["Last-Event-ID"] = last
        found: list[Event] = []
        event_id = ""
        url = f"{self.url}/api/v1/submissions/{sub}/events"
        with httpx.stream("GET", url, headers=headers, timeout=60) as answer:
            assert answer.status_code == 200, answer.read()
            for line in answer.iter_lines():
                if line.startswith("id: "):
                    event_id = line[len("id: ") :]
                elif line.startswith("data: "):
                    found.append((event_id, json.loads(line[len("data: ") :])))
                    if until is not None and until(found):
                        break
        return found


@contextmanager
def event_site(settings: Settings) -> Iterator[Site]:
    """The app served on a loopback port, with alice signed in."""
    app = create_app(settings)
    with serving(app) as url:
        with session_scope(app.state.session_factory) as session:
            _user, issued = AccountService(session).create_user("alice", "alice-password")
        yield Site(app, url, {"Authorization": f"Bearer {issued.secret}"})
