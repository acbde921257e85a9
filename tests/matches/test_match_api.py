"""Creating matches: which submission plays, every refusal with its exact text, the log line,
and reading matches that have not been played yet."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta

import pytest
import structlog
from fastapi.testclient import TestClient

from botarena.agents.models import Submission
from botarena.agents.status import SubmissionStatus
from botarena.app import create_app
from botarena.clock import utcnow
from botarena.db.engine import SessionFactory
from botarena.matches.models import Match
from botarena.settings import Settings

from support.accounts import Account
from support.api import create_agent, submit_url
from support.rows import submission_row


def _set_status(factory: SessionFactory, sub: str, status: str, artifact: str | None) -> None:
    with factory() as session:
        row = session.get(Submission, sub)
        assert row is not None
        row.status = status
        row.artifact = artifact
        session.commit()


LOCAL_ARTIFACT = '{"backend": "local", "codeDir": "/nowhere", "envDir": null, "command": null}'


@pytest.fixture
def ready(client: TestClient, alice: Account, session_factory: SessionFactory) -> str:
    """An agent of alice's whose submission built."""
    agent = create_agent(client, alice, "ready-bot")
    _set_status(session_factory, submit_url(client, alice, agent), "success", LOCAL_ARTIFACT)
    return agent


def _post(client: TestClient, account: Account, a: str, b: str, **extra: object):  # type: ignore[no-untyped-def]
    return client.post(
        "/api/v1/matches", json={"agent1Id": a, "agent2Id": b, **extra}, headers=account.headers
    )


@pytest.mark.parametrize("status", ["pending", "building", "build_failed", "failed"])
@pytest.mark.parametrize("seat", ["agent1", "agent2"])
def test_an_agent_whose_code_is_not_ready(
    client: TestClient,
    alice: Account,
    bob: Account,
    session_factory: SessionFactory,
    ready: str,
    status: str,
    seat: str,
) -> None:
    waiting = create_agent(client, bob, "waiting-bot")
    sub = submit_url(client, bob, waiting)
    if status != "pending":
        _set_status(session_factory, sub, status, None)
    pair = (waiting, ready) if seat == "agent1" else (ready, waiting)
    answer = _post(client, bob, *pair)
    assert answer.status_code == 400
    assert answer.json()["error"] == f"{seat} submission is not ready (status: {status})"


@pytest.mark.parametrize("seat", ["agent1", "agent2"])
def test_an_agent_without_any_submission(
    client: TestClient, bob: Account, ready: str, seat: str
) -> None:
    empty = create_agent(client, bob, "empty-bot")
    pair = (empty, ready) if seat == "agent1" else (ready, empty)
    answer = _post(client, bob, *pair)
    assert answer.status_code == 400
    assert answer.json()["error"] == f"{seat} has no submission"


def test_the_active_submission_plays_else_the_newest_built(
    client: TestClient, alice: Account, session_factory: SessionFactory, ready: str
) -> None:
    agent = create_agent(client, alice, "versions")
    first, second, third = (submit_url(client, alice, agent) for _ in range(3))
    _set_status(session_factory, first, SubmissionStatus.ACTIVE.value, LOCAL_ARTIFACT)
    _set_status(session_factory, second, SubmissionStatus.SUCCESS.value, LOCAL_ARTIFACT)
    # third is pending: the active one plays.
    assert _post(client, alice, agent, ready).json()["agents"][0]["submissionId"] == first
    _set_status(session_factory, first, SubmissionStatus.INACTIVE.value, LOCAL_ARTIFACT)
    assert _post(client, alice, agent, ready).json()["agents"][0]["submissionId"] == second
    assert submission_row(session_factory, third).status == "pending"


def test_bad_requests_change_nothing(client: TestClient, alice: Account, ready: str) -> None:
    cases = [
        ({"agent1Id": ready, "agent2Id": "agt-missing"}, 404, "Agent not found"),
        ({"agent1Id": ready, "agent2Id": ready, "game": "chess"}, 422, "Unknown game 'chess'"),
        ({"agent1Id": ready, "agent2Id": ready, "game": "rps"}, 400, "agent1 plays connectx"),
        ({"agent1Id": ready, "agent2Id": ready, "config": {"rows": -2}}, 422, "rows"),
        ({"agent1Id": ready}, 422, ""),
    ]
    for body, code, text in cases:
        answer = client.post("/api/v1/matches", json=body, headers=alice.headers)
        assert answer.status_code == code, (body, answer.text)
        assert text in answer.text
    assert (
        client.post("/api/v1/matches", json={"agent1Id": ready, "agent2Id": ready}).status_code
        == 401
    )
    assert client.get("/api/v1/matches").json()["total"] == 0


def test_the_match_created_log_line(
    client: TestClient, alice: Account, session_factory: SessionFactory, ready: str
) -> None:
    docker = create_agent(client, alice, "boxed")
    image = '{"backend": "docker", "image": "botarena/agent-x:sub-v1"}'
    _set_status(session_factory, submit_url(client, alice, docker), "success", image)
    with structlog.testing.capture_logs() as logs:
        created = _post(client, alice, ready, docker).json()
    line = next(entry for entry in logs if entry["event"] == "Match created")
    assert line["matchId"] == created["id"]
    assert line["agent1"] == ready and line["agent2"] == docker
    assert line["agent1Source"] == "https://git.example.com/a/b"
    assert line["agent1IsDocker"] is False and line["agent2IsDocker"] is True
    # An agent that plays an image is named by its image, as the seed's line does.
    assert line["agent2Source"] == "botarena/agent-x:sub-v1"


def test_a_queued_match_shows_its_place(
    client: TestClient, alice: Account, ready: str, session_factory: SessionFactory
) -> None:
    first = _post(client, alice, ready, ready).json()
    second = _post(client, alice, ready, ready).json()
    assert (first["queuePosition"], second["queuePosition"]) == (0, 1)
    with session_factory() as session:  # who queued it, as the route's caller said
        row = session.get(Match, second["id"])
        assert row is not None and row.status_events[0].reason == f"created by {alice.username}"
    shown = client.get(f"/api/v1/matches/{second['id']}").json()
    assert shown["status"] == "queued" and shown["statusHistory"][0]["status"] == "queued"
    assert shown["winner"] is None and shown["scores"] is None and shown["attempts"] == 0
    missing = client.get(f"/api/v1/matches/{first['id']}/replay")
    assert missing.status_code == 404 and "has no replay yet" in missing.json()["error"]
    assert client.get("/api/v1/matches/mat-nope").status_code == 404


@pytest.fixture
def quota_client(settings: Settings) -> Iterator[TestClient]:
    """The app with a scrimmage quota of 3 per rolling 24 hours."""
    with TestClient(create_app(settings.model_copy(update={"scrimmage_quota": 3}))) as app:
        yield app


def test_the_scrimmage_quota(
    quota_client: TestClient,
    alice: Account,
    bob: Account,
    admin: Account,
    session_factory: SessionFactory,
    ready: str,
) -> None:
    made = [_post(quota_client, alice, ready, ready) for _ in range(3)]
    assert [m.status_code for m in made] == [201, 201, 201]
    over = _post(quota_client, alice, ready, ready)
    assert over.status_code == 429
    assert over.json()["error"] == "Scrimmage quota reached: 3 matches per 24 hours"
    assert 86000 < int(over.headers["Retry-After"]) <= 86400
    # Others keep their own quota; ranked matches (admins') are not scrimmages.
    assert _post(quota_client, bob, ready, ready).status_code == 201
    assert _post(quota_client, admin, ready, ready, ranked=True).status_code == 201
    # Once the oldest is a day old, one more fits.
    with session_factory() as session:
        oldest = session.get(Match, made[0].json()["id"])
        assert oldest is not None
        oldest.created_at = utcnow() - timedelta(hours=24, seconds=1)
        session.commit()
    assert _post(quota_client, alice, ready, ready).status_code == 201
    assert _post(quota_client, alice, ready, ready).status_code == 429


def test_agents_are_named_one_way_and_as_many_as_the_game_seats(
    client: TestClient, alice: Account, ready: str
) -> None:
    both = {"agent1Id": ready, "agent2Id": ready, "agentIds": [ready, ready]}
    for body in (both, {"agent1Id": ready}, {}):
        answer = client.post("/api/v1/matches", json=body, headers=alice.headers)
        assert answer.status_code == 422, answer.text
    answer = client.post("/api/v1/matches", json={"agentIds": [ready] * 3}, headers=alice.headers)
    assert answer.status_code == 422
    assert answer.json()["error"] == "ConnectX is played by 2 agents, not 3"
    answer = client.post("/api/v1/matches", json={"agentIds": [ready] * 2}, headers=alice.headers)
    assert answer.status_code == 201, answer.text
    assert [a["agentId"] for a in answer.json()["agents"]] == [ready, ready]
    assert client.get("/api/v1/matches").json()["total"] == 1  # the refused left nothing
