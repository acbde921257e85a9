"""What happens on the platform becomes deliveries, in the transaction of the change: a build
that ends (through the real build pipeline), a submission failed at run time, a challenge,
a tournament's rounds and its end; a change rolled back queues nothing."""

from __future__ import annotations

import json
from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy import select

from botarena.accounts.models import User
from botarena.agents.models import Submission
from botarena.agents.status import SubmissionStatus
from botarena.builds.backends.local import LocalBackend
from botarena.db.engine import SessionFactory
from botarena.matches.challenges import Challenges
from botarena.notifications.models import Delivery
from botarena.notifications.workers import NotificationWorkers
from botarena.settings import Settings

from support.accounts import Account, MakeUser
from support.api import create_agent, submit_archive, zip_files
from support.building import build_now
from support.competitors import pretend_built
from support.referee import Referee
from support.teams import create_team, default_competition, join
from support.webhook_receiver import Receiver

API = "/api/v1/notifications"
EVERYTHING = [
    "build.finished",
    "submission.failed",
    "challenge.received",
    "tournament.round",
    "tournament.finished",
]


def subscribe(client: TestClient, account: Account, url: str, events: list[str]) -> str:
    answer = client.post(
        f"{API}/webhooks", json={"url": url, "events": events}, headers=account.headers
    )
    assert answer.status_code == 201, answer.text
    webhook_id: str = answer.json()["id"]
    return webhook_id


def deliveries(factory: SessionFactory, user_id: str) -> list[tuple[str, dict[str, Any]]]:
    with factory() as session:
        rows = session.scalars(
            select(Delivery).where(Delivery.user_id == user_id).order_by(Delivery.created_at)
        ).all()
        return [(row.event, json.loads(row.payload)) for row in rows]


def test_a_build_that_fails_in_the_real_pipeline_is_delivered_with_its_reason(
    client: TestClient,
    alice: Account,
    receiver: Receiver,
    session_factory: SessionFactory,
    settings: Settings,
    worker: NotificationWorkers,
) -> None:
    subscribe(client, alice, receiver.url, ["build.finished"])
    agent = create_agent(client, alice, "broken")
    sub = submit_archive(client, alice, agent, zip_files({"README.md": b"no agent here"}))

    build_now(session_factory, settings, LocalBackend(settings.data_dir), sub)

    with session_factory() as session:
        row = session.get(Submission, sub)
        assert row is not None and row.status == "build_failed"
        reason = row.error_message
    [(event, payload)] = deliveries(session_factory, alice.id)
    assert event == "build.finished"
    assert payload["url"] == f"/submissions/{sub}"
    assert payload["data"]["status"] == "build_failed"
    assert payload["data"]["reason"] == reason
    assert payload["data"]["agentName"] == "broken"
    assert worker.tick() == 1
    [request] = receiver.received
    assert request.headers["X-Botarena-Event"] == "build.finished"
    assert json.loads(request.body) == payload


def test_a_submission_failed_at_run_time_and_a_rollback(
    client: TestClient,
    alice: Account,
    receiver: Receiver,
    session_factory: SessionFactory,
) -> None:
    subscribe(client, alice, receiver.url, ["submission.failed"])
    _, sub = pretend_built(client, session_factory, alice, "crashy", status="active")
    # What the match recorder does after five crashes in a row, rolled back: nothing queued.
    with session_factory() as session:
        row = session.get(Submission, sub)
        assert row is not None
        row.move_to(SubmissionStatus.FAILED, reason="failed: crashed")
        session.flush()
        session.rollback()
    assert deliveries(session_factory, alice.id) == []
    with session_factory() as session:
        row = session.get(Submission, sub)
        assert row is not None
        row.move_to(SubmissionStatus.FAILED, reason="failed: the agent crashed 5 times")
        session.commit()
    [(event, payload)] = deliveries(session_factory, alice.id)
    assert event == "submission.failed"
    assert payload["data"]["reason"] == "failed: the agent crashed 5 times"


def test_a_challenge_reaches_the_opponents_owner_only(
    client: TestClient,
    alice: Account,
    bob: Account,
    receiver: Receiver,
    session_factory: SessionFactory,
    settings: Settings,
) -> None:
    subscribe(client, alice, receiver.url, EVERYTHING)
    subscribe(client, bob, receiver.url, EVERYTHING)
    mine, _ = pretend_built(client, session_factory, alice, "challenger")
    theirs, _ = pretend_built(client, session_factory, bob, "defender")
    with session_factory() as session:
        user = session.get(User, alice.id)
        assert user is not None
        match = Challenges(session, settings).challenge(user, mine, theirs)
        match_id = match.id

    assert deliveries(session_factory, alice.id) == []
    [(event, payload)] = deliveries(session_factory, bob.id)
    assert event == "challenge.received"
    assert payload["url"] == f"/matches/{match_id}"
    assert payload["data"]["challenger"] == "alice"
    assert payload["data"]["challengerAgent"] == "challenger"
    assert payload["data"]["agentName"] == "defender"


def test_each_round_and_the_end_of_a_tournament_reach_every_entrants_owner(
    client: TestClient,
    alice: Account,
    bob: Account,
    admin: Account,
    receiver: Receiver,
    session_factory: SessionFactory,
    settings: Settings,
) -> None:
    subscribe(client, alice, receiver.url, ["tournament.round", "tournament.finished"])
    subscribe(client, bob, receiver.url, ["tournament.finished"])
    for index, owner in enumerate([alice, bob, alice]):
        pretend_built(client, session_factory, owner, f"entrant-{index}")
    referee = Referee(client, session_factory, settings, admin)
    started = referee.start(game="connectx", format="round_robin")
    assert started["rounds"] == 3

    referee.run(started["id"], lambda match: 0)

    alices = deliveries(session_factory, alice.id)
    assert [(e, p["data"]["round"]) for e, p in alices] == [
        ("tournament.round", 1),
        ("tournament.round", 2),
        ("tournament.finished", 3),
    ]
    assert alices[0][1]["data"]["agentName"] == "entrant-0, entrant-2"
    assert alices[-1][1]["data"]["status"] == "finished"
    assert [e for e, _ in deliveries(session_factory, bob.id)] == ["tournament.finished"]


def test_news_of_a_teams_agent_reaches_every_member(
    client: TestClient,
    alice: Account,
    bob: Account,
    make_user: MakeUser,
    receiver: Receiver,
    session_factory: SessionFactory,
    settings: Settings,
) -> None:
    carol = make_user("carol")
    competition = default_competition(session_factory)
    red = create_team(client, alice, competition, "Red")
    assert join(client, bob, red["inviteCode"]).status_code == 200
    for account in (alice, bob, carol):
        subscribe(client, account, receiver.url, EVERYTHING)
    _, sub = pretend_built(client, session_factory, alice, "ours", status="active")
    theirs, _ = pretend_built(client, session_factory, carol, "theirs")
    with session_factory() as session:
        row = session.get(Submission, sub)
        assert row is not None
        row.move_to(SubmissionStatus.FAILED, reason="failed: the agent crashed 5 times")
        session.commit()
    for member in (alice, bob):
        assert [e for e, _ in deliveries(session_factory, member.id)] == ["submission.failed"]
    assert deliveries(session_factory, carol.id) == []

    # carol challenges the team's other agent (bob's): both members hear of it.
    again, _ = pretend_built(client, session_factory, bob, "ours-again", status="active")
    with session_factory() as session:
        user = session.get(User, carol.id)
        assert user is not None
        Challenges(session, settings).challenge(user, theirs, again)
    for member in (alice, bob):
        events = [e for e, _ in deliveries(session_factory, member.id)]
        assert events == ["submission.failed", "challenge.received"]
    assert deliveries(session_factory, carol.id) == []
