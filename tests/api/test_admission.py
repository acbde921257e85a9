"""The two ways a request is told the server is full: no turn in time, no database connection in
time. Both are 503 with ``Retry-After`` and change nothing; the next request is served."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import ExitStack

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine

from botarena.api.admission import POOL_OVERFLOW, Admission, worker_threads
from botarena.app import create_app
from botarena.settings import Settings

from support.accounts import Account

LEADERBOARD = "/api/v1/leaderboard?game=connectx"


@pytest.fixture
def tight(settings: Settings) -> Iterator[TestClient]:
    """One turn, no line, and a short wait for a connection."""
    narrow = settings.model_copy(
        update={"max_concurrent_requests": 1, "max_queued_requests": 0, "db_pool_timeout": 0.5}
    )
    with TestClient(create_app(narrow)) as client:
        yield client


def _assert_busy(answer: object) -> None:
    from httpx import Response

    assert isinstance(answer, Response)
    assert answer.status_code == 503, answer.text
    assert answer.headers["retry-after"] == "2"
    assert answer.json()["error"] == "Server busy"
    assert "retry after 2 s" in answer.json()["message"].lower()


def test_no_turn_and_no_line_is_503(tight: TestClient, alice: Account) -> None:
    admission: Admission = tight.app.state.admission  # type: ignore[attr-defined]
    portal = tight.portal
    assert portal is not None
    assert portal.call(admission.take)  # someone else's turn, held
    try:
        _assert_busy(tight.get(LEADERBOARD))
        _assert_busy(tight.post("/api/v1/agents", json={"name": "x", "game": "rps"}))
    finally:
        admission.give_back()
    assert tight.get(LEADERBOARD).status_code == 200
    # A request whose dependencies share its session takes one turn, not one per dependency.
    me = tight.get("/api/v1/me", headers=alice.headers)
    assert me.status_code == 200 and me.json()["username"] == "alice"
    assert admission.waiting == 0


def test_no_connection_in_time_is_503(tight: TestClient) -> None:
    engine: Engine = tight.app.state.engine  # type: ignore[attr-defined]
    settings: Settings = tight.app.state.settings  # type: ignore[attr-defined]
    with ExitStack() as held:
        # Every connection the pool may lend, taken elsewhere.
        for _ in range(worker_threads(settings) + POOL_OVERFLOW):
            held.enter_context(engine.connect())
        _assert_busy(tight.get(LEADERBOARD))
    assert tight.get(LEADERBOARD).status_code == 200


def test_the_build_status_takes_its_turn_and_gives_it_back(
    tight: TestClient, alice: Account
) -> None:
    # The build status opens its own session (no session dependency): it is admitted alike.
    agent = tight.post(
        "/api/v1/agents", json={"name": "turns", "game": "rps"}, headers=alice.headers
    )
    sub = tight.post(
        "/api/v1/submissions",
        json={"agentId": agent.json()["id"], "codeUrl": "https://git.example.com/a/b"},
        headers=alice.headers,
    ).json()["submission"]["id"]
    status = f"/api/v1/submissions/{sub}/build-status"
    admission: Admission = tight.app.state.admission  # type: ignore[attr-defined]
    portal = tight.portal
    assert portal is not None
    assert portal.call(admission.take)
    try:
        _assert_busy(tight.get(status))
    finally:
        admission.give_back()
    for _ in range(3):  # one turn only: each request gave it back, found or not
        assert tight.get(status).status_code == 200
        assert tight.get("/api/v1/submissions/sub_none/build-status").status_code == 404
    assert admission.waiting == 0
