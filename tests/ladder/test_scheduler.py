"""The ladder scheduler on the real database: ranked matches between active submissions
only, topped up to the concurrency, within the rate, and paused and resumed by admins."""

from __future__ import annotations

import random

from fastapi.testclient import TestClient
from sqlalchemy import select

from botarena.db.engine import SessionFactory
from botarena.ladder.scheduler import LadderScheduler
from botarena.matches.models import Match
from botarena.settings import Settings

from support.accounts import Account
from support.competitors import pretend_built


def _agent(
    client: TestClient, factory: SessionFactory, account: Account, name: str, game: str, status: str
) -> str:
    return pretend_built(client, factory, account, name, game, status)[1]


def _ladder(factory: SessionFactory, settings: Settings, **changes: object) -> LadderScheduler:
    return LadderScheduler(factory, settings.model_copy(update=changes), random.Random(7))


def _matches(factory: SessionFactory) -> list[Match]:
    with factory() as session:
        rows = session.scalars(select(Match).order_by(Match.created_at)).all()
        for row in rows:
            _ = row.players, row.status_events
        session.expunge_all()
        return list(rows)


def test_ranked_matches_between_active_submissions_up_to_the_concurrency(
    client: TestClient,
    session_factory: SessionFactory,
    settings: Settings,
    alice: Account,
    bob: Account,
) -> None:
    active = {
        _agent(client, session_factory, who, f"cx-{i}", "connectx", "active")
        for i, who in enumerate((alice, bob, alice, bob))
    }
    idle = _agent(client, session_factory, bob, "cx-idle", "connectx", "success")
    lonely = _agent(client, session_factory, alice, "ttt-1", "tictactoe", "active")
    ladder = _ladder(session_factory, settings, ladder_concurrency=3)

    assert ladder.tick() == 3
    assert ladder.tick() == 0  # three in flight already
    matches = _matches(session_factory)
    assert len(matches) == 3
    for match in matches:
        seats = [p.submission_id for p in match.players]
        assert match.ranked and match.created_by is None and match.game == "connectx"
        assert set(seats) <= active and seats[0] != seats[1]
        assert idle not in seats and lonely not in seats  # not active; alone in its game
        assert match.status_events[0].reason == "scheduled by the ladder"


def test_the_rate_per_minute(
    client: TestClient, session_factory: SessionFactory, settings: Settings, alice: Account
) -> None:
    for i in range(4):
        _agent(client, session_factory, alice, f"r-{i}", "connectx", "active")
    ladder = _ladder(session_factory, settings, ladder_concurrency=50, ladder_rate=5)
    assert ladder.tick() == 5
    with session_factory() as session:  # all five played out: none in flight
        for match in session.scalars(select(Match)):
            match.status = "finished"
        session.commit()
    assert ladder.tick() == 0  # the minute's five are used


def test_pause_and_resume(
    client: TestClient,
    session_factory: SessionFactory,
    settings: Settings,
    alice: Account,
    admin: Account,
) -> None:
    for i in range(2):
        _agent(client, session_factory, alice, f"p-{i}", "connectx", "active")
    for i in range(2):
        _agent(client, session_factory, alice, f"t-{i}", "tictactoe", "active")
    ladder = _ladder(session_factory, settings, ladder_concurrency=1)

    assert client.post("/api/v1/ladder/pause", headers=alice.headers).status_code == 403
    paused = client.post("/api/v1/ladder/pause", params={"game": "connectx"}, headers=admin.headers)
    assert paused.json() == {"allPaused": False, "pausedGames": ["connectx"]}
    assert ladder.tick() == 1
    assert {m.game for m in _matches(session_factory)} == {"tictactoe"}

    client.post("/api/v1/ladder/pause", headers=admin.headers)
    assert client.get("/api/v1/ladder").json()["allPaused"] is True
    client.post("/api/v1/ladder/resume", params={"game": "connectx"}, headers=admin.headers)
    assert ladder.tick() == 0  # every game is still paused

    resumed = client.post("/api/v1/ladder/resume", headers=admin.headers)
    assert resumed.json() == {"allPaused": False, "pausedGames": []}
    assert ladder.tick() == 1
    assert sorted(m.game for m in _matches(session_factory)) == ["connectx", "tictactoe"]
    bad = client.post("/api/v1/ladder/pause", params={"game": "chess"}, headers=admin.headers)
    assert bad.status_code == 422
