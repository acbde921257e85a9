"""The event bus: committed changes are heard once, rolled-back ones never, in this process
(SQLite and PostgreSQL) and between processes through PostgreSQL's LISTEN/NOTIFY."""

from __future__ import annotations

import time
from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine, select, text

from botarena.agents.models import Submission
from botarena.agents.status import SubmissionStatus
from botarena.app import event_bus
from botarena.db.engine import SessionFactory, build_engine, build_session_factory
from botarena.events import EventBus, Notice
from botarena.ratings.models import Rating
from botarena.settings import Settings

from support.accounts import Account
from support.api import create_agent, submit_url
from support.heard import Heard

postgres_only = pytest.mark.parametrize(
    "database_url", [pytest.param("postgres", marks=pytest.mark.postgres)], indirect=True
)
ARTIFACT = '{"backend": "local", "codeDir": "/nowhere", "envDir": null, "command": null}'


def _bus(client: TestClient) -> EventBus:
    """The app's bus, listening (on PostgreSQL, what is sent before is not heard)."""
    bus: EventBus = client.app.state.events  # type: ignore[attr-defined]
    if bus.relay is not None:
        assert bus.relay.listening.wait(15)
    return bus


def _move(factory: SessionFactory, sub: str, status: str) -> None:
    with factory() as session:
        row = session.get(Submission, sub)
        assert row is not None
        row.move_to(SubmissionStatus(status))
        session.commit()


def _sentinel(bus: EventBus, heard: Heard, topic: str) -> list[Notice]:
    """Everything heard on ``topic`` before a marker published now: what came before it."""
    bus.publish(Notice(topic, {"sentinel": True}))
    notices = heard.wait(lambda seen: any("sentinel" in n.data for n in seen))
    return notices[: next(i for i, n in enumerate(notices) if "sentinel" in n.data)]


def test_committed_statuses_are_heard_and_rolled_back_ones_never(
    client: TestClient, alice: Account, session_factory: SessionFactory
) -> None:
    bus, heard = _bus(client), Heard()
    bus.subscribe("submission:", heard, prefix=True)
    sub = submit_url(client, alice, create_agent(client, alice, "bot"))
    with session_factory() as session:  # written, flushed, rolled back
        row = session.get(Submission, sub)
        assert row is not None
        row.move_to(SubmissionStatus.BUILDING)
        session.flush()
        session.rollback()
    with session_factory() as session:  # a savepoint rolled back inside a committed change
        row = session.get(Submission, sub)
        assert row is not None
        row.move_to(SubmissionStatus.BUILDING)
        session.flush()
        with session.begin_nested() as savepoint:
            row.move_to(SubmissionStatus.SUCCESS)
            session.flush()
            savepoint.rollback()
        session.commit()
    with session_factory() as session:  # closed without a commit
        row = session.get(Submission, sub)
        assert row is not None
        row.move_to(SubmissionStatus.BUILD_FAILED)
        session.flush()
    _move(session_factory, sub, "success")
    before = _sentinel(bus, heard, f"submission:{sub}")
    assert {n.topic for n in before} == {f"submission:{sub}"}
    assert [n.data["status"] for n in before] == ["pending", "building", "success"]
    with session_factory() as session:
        ids = session.scalars(select(Submission).where(Submission.id == sub)).one().status_events
        assert [n.data["id"] for n in before] == [e.id for e in ids]


def test_match_statuses_and_leaderboard_changes_are_heard(
    client: TestClient,
    alice: Account,
    bob: Account,
    admin: Account,
    session_factory: SessionFactory,
) -> None:
    agents, subs = [], []
    for account, name in ((alice, "one"), (bob, "two")):
        agents.append(create_agent(client, account, name))
        subs.append(submit_url(client, account, agents[-1]))
    with session_factory() as session:
        for sub in subs:
            row = session.get(Submission, sub)
            assert row is not None
            row.status, row.artifact = "active", ARTIFACT
        session.commit()
    bus, matches, boards = _bus(client), Heard(), Heard()
    bus.subscribe("match:", matches, prefix=True)
    bus.subscribe("leaderboard:", boards, prefix=True)
    body = {"agent1Id": agents[0], "agent2Id": agents[1], "ranked": True}
    created = client.post("/api/v1/matches", json=body, headers=admin.headers)
    assert created.status_code == 201, created.text
    match_id = created.json()["id"]
    heard = matches.wait(lambda seen: len(seen) >= 1)
    assert heard[0].topic == f"match:{match_id}" and heard[0].data["status"] == "queued"
    with session_factory() as session:  # a first rating, then a change to it: two notices
        session.add(
            Rating(
                submission_id=subs[0],
                agent_id=agents[0],
                game="connectx",
                mu=25.0,
                sigma=8.0,
                games=1,
                wins=1,
                losses=0,
                draws=0,
            )
        )
        session.commit()
        rating = session.get(Rating, subs[0])
        assert rating is not None
        rating.mu = 26.0
        session.commit()
    assert [n.topic for n in boards.wait(lambda seen: len(seen) >= 2)] == [
        "leaderboard:connectx",
        "leaderboard:connectx",
    ]


@pytest.fixture
def second_process(settings: Settings) -> Iterator[tuple[EventBus, SessionFactory]]:
    """Another process's bus on the same database: its own engine, relay and sessions."""
    engine = build_engine(settings.resolved_database_url)
    factory = build_session_factory(engine)
    bus = event_bus(engine, factory)
    bus.start()
    yield bus, factory
    bus.stop()
    engine.dispose()


def _passed(origin: EventBus, other: EventBus, topic: str) -> None:
    """Wait until what was published on ``topic`` so far has reached both buses (the
    submission's creation comes late on a busy machine: here on the bus's own thread, there
    through NOTIFY), by a marker from ``origin`` that comes after it on both paths."""
    marks = [Heard(), Heard()]
    origin.subscribe(topic, marks[0])
    other.subscribe(topic, marks[1])
    origin.publish(Notice(topic, {"passed": True}))
    for heard in marks:
        heard.wait(lambda seen: any("passed" in n.data for n in seen))


def _listening(*buses: EventBus) -> None:
    for bus in buses:
        assert bus.relay is not None and bus.relay.listening.wait(15)


@postgres_only
def test_notices_cross_processes_through_postgres(
    client: TestClient,
    alice: Account,
    session_factory: SessionFactory,
    second_process: tuple[EventBus, SessionFactory],
) -> None:
    here, (there, their_sessions) = _bus(client), second_process
    _listening(here, there)
    sub = submit_url(client, alice, create_agent(client, alice, "bot"))
    _passed(here, there, f"submission:{sub}")
    heard_here, heard_there = Heard(), Heard()
    here.subscribe(f"submission:{sub}", heard_here)
    there.subscribe(f"submission:{sub}", heard_there)
    _move(session_factory, sub, "building")  # committed here
    _move(their_sessions, sub, "build_failed")  # committed there
    there.publish(Notice(f"submission:{sub}", {"log": 120}, latest=True))
    for heard in (heard_here, heard_there):
        seen = heard.wait(lambda notices: len(notices) >= 3)
        assert [n.data.get("status") for n in seen[:2]] == ["building", "build_failed"]
        assert seen[2].data == {"log": 120}
    # Each bus delivered its own notices once, not again when they came back through NOTIFY.
    assert len(_sentinel(here, heard_here, f"submission:{sub}")) == 3
    assert len(_sentinel(there, heard_there, f"submission:{sub}")) == 3


@postgres_only
def test_the_listener_reconnects_and_catches_up(
    client: TestClient, second_process: tuple[EventBus, SessionFactory], settings: Settings
) -> None:
    here, (there, _factory) = _bus(client), second_process
    _listening(here, there)
    relay = here.relay
    assert relay is not None
    before = relay.connections
    # Each catch-up pass notes which connection of the listener it followed.
    passes: list[int] = []
    here.every(3600, lambda: passes.append(relay.connections))
    engine: Engine = client.app.state.engine  # type: ignore[attr-defined]
    with engine.begin() as connection:
        ended = connection.execute(
            text(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                "WHERE query = 'LISTEN botarena_events' AND pid <> pg_backend_pid()"
            )
        ).all()
    assert len(ended) == 2  # both buses' listeners
    # The listener comes back on a new connection, and a catch-up pass follows it (notices
    # sent while it was away are gone).
    deadline = time.monotonic() + 15
    while time.monotonic() < deadline and not any(n > before for n in passes):
        time.sleep(0.05)
    assert any(n > before for n in passes), (before, relay.connections, passes)
    _listening(here, there)
    heard = Heard()
    here.subscribe("leaderboard:connectx", heard)
    there.publish(Notice("leaderboard:connectx", {"game": "connectx"}))
    assert heard.wait(lambda seen: len(seen) == 1)[0].data == {"game": "connectx"}


def test_subscribers_counts_exact_and_prefix_subscriptions_until_they_close(
    client: TestClient,
) -> None:
    bus = _bus(client)
    topic = "tournament:tou-counted"
    before = bus.subscribers(topic)  # the server's own prefix watchers, if any
    exact = bus.subscribe(topic, lambda notice: None)
    by_prefix = bus.subscribe("tournament:", lambda notice: None, prefix=True)
    elsewhere = bus.subscribe("match:mat-other", lambda notice: None)
    assert bus.subscribers(topic) == before + 2
    assert bus.subscribers("tournament:tou-other") == bus.subscribers("tournament:x")
    exact.close()
    by_prefix.close()
    elsewhere.close()
    assert bus.subscribers(topic) == before
