"""Cancelling a match through the API: who may, in which states, what it answers, what it
writes (the audit log, no rating), and that a result arriving late changes nothing."""

from __future__ import annotations

from typing import Any

from fastapi.testclient import TestClient

from botarena.db.engine import SessionFactory
from botarena.executor.credentials import Identity
from botarena.executor.outcomes import AgentOutcome, MatchResult, MatchStatus
from botarena.matches.dispatcher import MatchDispatcher
from botarena.matches.queue import MatchQueue
from botarena.ratings.hook import RatingsHook
from botarena.settings import Settings

from support.accounts import Account
from support.court import Court
from support.rows import match_row
from support.scrapes import grew, scrape

# The dispatcher's certificate, for a dispatcher that reaches no executor.
_IDENTITY = Identity(b"", b"", b"")


def _create(client: TestClient, account: Account, pair: tuple[str, str], **extra: object) -> str:
    body = {"agent1Id": pair[0], "agent2Id": pair[1], **extra}
    answer = client.post("/api/v1/matches", json=body, headers=account.headers)
    assert answer.status_code == 201, answer.text
    match_id: str = answer.json()["id"]
    return match_id


def _cancel(
    client: TestClient, match_id: str, account: Account | None
) -> tuple[int, dict[str, Any]]:
    headers = account.headers if account is not None else {}
    answer = client.post(f"/api/v1/matches/{match_id}/cancel", headers=headers)
    return answer.status_code, answer.json()


def test_who_may_cancel_a_queued_match(
    court: Court, client: TestClient, alice: Account, bob: Account, admin: Account
) -> None:
    pair = (court.ready(alice, "cancel-a")[0], court.ready(bob, "cancel-b")[0])
    mine = _create(client, alice, pair)
    counted = scrape(client)

    assert _cancel(client, mine, None)[0] == 401
    status, body = _cancel(client, mine, bob)
    assert status == 403 and body["error"] == "Only the match's creator and admins may cancel it"
    assert match_row(court.factory, mine).status == "queued"

    status, body = _cancel(client, mine, alice)
    assert status == 200, body
    assert body["status"] == "cancelled" and body["queuePosition"] is None
    assert [h["status"] for h in body["statusHistory"]] == ["queued", "cancelled"]
    row = match_row(court.factory, mine)
    assert row.finished_at is not None and row.lease_owner is None

    status, body = _cancel(client, mine, alice)
    assert status == 409
    assert body["error"] == f"Match {mine} has ended already (cancelled)"
    assert body["message"] == "Only a queued or running match can be cancelled."

    theirs = _create(client, bob, pair)
    assert _cancel(client, theirs, admin)[0] == 200
    status, body = _cancel(client, "mat-0000000000000000000000000", alice)
    assert status == 404 and body["error"].startswith("Match mat-0000")
    assert grew(counted, scrape(client), "botarena_matches_total", outcome="cancelled") == 2

    entries = client.get(
        "/api/v1/audit", params={"action": "match.cancelled"}, headers=admin.headers
    ).json()["items"]
    assert {(e["actor"], e["targetId"]) for e in entries} == {
        ("alice", mine),
        ("root", theirs),
    }
    assert all(e["details"] == {"status": "queued"} for e in entries)


def test_a_finished_match_cannot_be_cancelled(
    court: Court, client: TestClient, alice: Account, admin: Account
) -> None:
    pair = (court.ready(alice, "done-a")[0], court.ready(alice, "done-b")[0])
    finished = court.play(pair, 0)
    status, body = _cancel(client, finished, admin)
    assert status == 409 and "(finished)" in body["error"]
    assert match_row(court.factory, finished).status == "finished"


def test_a_running_ranked_match_cancelled_ignores_its_late_result(
    court: Court,
    client: TestClient,
    settings: Settings,
    session_factory: SessionFactory,
    alice: Account,
    admin: Account,
) -> None:
    pair = (court.ready(alice, "late-a")[0], court.ready(alice, "late-b")[0])
    match_id = _create(client, admin, pair, ranked=True)
    with session_factory() as session:
        claimed = MatchQueue(session, settings).claim_next("slot-1", "127.0.0.1:1")
        assert claimed is not None and claimed.id == match_id
        session.commit()
    ratings = court.ratings()
    history = court.history()

    status, body = _cancel(client, match_id, admin)
    assert status == 200, body
    assert [h["status"] for h in body["statusHistory"]] == ["queued", "running", "cancelled"]
    entry = client.get(
        "/api/v1/audit", params={"targetId": match_id}, headers=admin.headers
    ).json()["items"][0]
    assert entry["action"] == "match.cancelled" and entry["details"] == {"status": "running"}

    # The executor's result arrives after the cancel: the slot no longer holds the match.
    dispatcher = MatchDispatcher(session_factory, settings, [], _IDENTITY, RatingsHook())
    result = MatchResult(
        MatchStatus.FINISHED, 0, [1.0, 0.0], [AgentOutcome(), AgentOutcome()], 7, 9
    )
    dispatcher._finish("slot-1", match_id, result)
    after = client.get(f"/api/v1/matches/{match_id}").json()
    assert after["status"] == "cancelled" and after["winner"] is None
    assert client.get(f"/api/v1/matches/{match_id}/replay").status_code == 404
    assert court.ratings() == ratings and court.history() == history
    # And a lease renewal by that slot fails: its dispatcher stops playing the match.
    with session_factory() as session:
        assert not MatchQueue(session, settings).renew(match_id, "slot-1")
