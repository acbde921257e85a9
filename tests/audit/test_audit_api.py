"""The audit log through the real app: each audited action leaves exactly one entry saying
who, what, when and from where; refused actions leave none; only admins read it, with
filters and paging, newest first; nothing writes or deletes it through the API."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient
from httpx import Response

from botarena.clock import utcnow
from botarena.db.engine import SessionFactory

from support.accounts import Account
from support.api import create_agent, submit_url
from support.competitors import pretend_built


def _log(client: TestClient, admin: Account, **params: Any) -> dict[str, Any]:
    answer = client.get("/api/v1/audit", params=params, headers=admin.headers)
    assert answer.status_code == 200, answer.text
    page: dict[str, Any] = answer.json()
    return page


def _only(client: TestClient, admin: Account, action: str) -> dict[str, Any]:
    """The one entry of ``action``; fails unless there is exactly one."""
    page = _log(client, admin, action=action)
    assert page["total"] == 1, page
    entry: dict[str, Any] = page["items"][0]
    return entry


def _assert_origin(entry: dict[str, Any], actor: Account, answer: Response) -> None:
    assert entry["actorId"] == actor.id and entry["actor"] == actor.username
    assert entry["clientAddress"] == "testclient"
    assert entry["requestId"] == answer.headers["x-request-id"]
    assert abs(utcnow() - _time(entry["at"])) < timedelta(minutes=1)


def _time(value: str) -> datetime:
    return datetime.fromisoformat(value)


def test_tokens_created_and_revoked_are_recorded(
    client: TestClient, alice: Account, admin: Account
) -> None:
    assert _log(client, admin)["total"] == 0  # fixtures are made without the journal
    signed = client.post(
        "/api/v1/auth/tokens",
        json={"username": "alice", "password": "alice-password", "name": "laptop"},
        headers={"X-Request-ID": "sign-in-1"},
    )
    assert signed.status_code == 201
    made = _only(client, admin, "token.created")
    _assert_origin(made, alice, signed)
    assert made["requestId"] == "sign-in-1"
    assert made["targetType"] == "token" and made["targetId"] == signed.json()["id"]
    assert made["details"]["method"] == "password" and made["details"]["name"] == "laptop"
    assert made["details"]["expiresAt"] == signed.json()["expiresAt"].replace("Z", "+00:00")

    revoked = client.delete(f"/api/v1/auth/tokens/{signed.json()['id']}", headers=alice.headers)
    assert revoked.status_code == 204
    entry = _only(client, admin, "token.revoked")
    _assert_origin(entry, alice, revoked)
    assert entry["targetId"] == signed.json()["id"] and entry["details"]["userId"] == alice.id
    # Revoking it again changes nothing and records nothing.
    client.delete(f"/api/v1/auth/tokens/{signed.json()['id']}", headers=alice.headers)
    assert _log(client, admin, action="token.revoked")["total"] == 1
    # A further token asked for with a bearer token.
    more = client.post("/api/v1/me/tokens", json={}, headers=alice.headers)
    assert _log(client, admin, action="token.created")["items"][0]["details"]["method"] == "token"
    assert _log(client, admin)["total"] == 3
    # No secret anywhere in the log.
    text = client.get("/api/v1/audit", headers=admin.headers).text
    for secret in (signed.json()["token"], more.json()["token"], alice.token, "alice-password"):
        assert secret not in text


def test_an_admin_revoking_someones_token_is_recorded_as_the_admin(
    client: TestClient, alice: Account, admin: Account
) -> None:
    signed = client.post(
        "/api/v1/auth/tokens", json={"username": "alice", "password": "alice-password"}
    ).json()
    answer = client.delete(f"/api/v1/auth/tokens/{signed['id']}", headers=admin.headers)
    entry = _only(client, admin, "token.revoked")
    _assert_origin(entry, admin, answer)
    assert entry["details"]["username"] == "alice"


def test_failed_sign_ins_and_refused_actions_leave_nothing(
    client: TestClient, alice: Account, bob: Account, admin: Account
) -> None:
    client.post("/api/v1/auth/tokens", json={"username": "alice", "password": "wrong-one"})
    client.post(
        "/api/v1/auth/tokens",
        json={"username": "alice", "password": "alice-password", "neverExpires": True},
    )
    sub = submit_url(client, alice, create_agent(client, alice, "bot"))
    assert (
        client.post(
            f"/api/v1/submissions/{sub}/priority", json={"priority": 3}, headers=alice.headers
        ).status_code
        == 403
    )
    assert client.post(f"/api/v1/submissions/{sub}/rebuild", headers=bob.headers).status_code == 403
    assert client.post("/api/v1/ladder/pause", headers=alice.headers).status_code == 403
    chess = client.post("/api/v1/ladder/pause", params={"game": "chess"}, headers=admin.headers)
    assert chess.status_code == 422
    body = {"game": "connectx", "format": "round_robin"}
    assert client.post("/api/v1/tournaments", json=body, headers=alice.headers).status_code == 403
    assert _log(client, admin)["total"] == 0


def test_a_priority_change_is_recorded(client: TestClient, alice: Account, admin: Account) -> None:
    sub = submit_url(client, alice, create_agent(client, alice, "bot"))
    answer = client.post(
        f"/api/v1/submissions/{sub}/priority", json={"priority": 7}, headers=admin.headers
    )
    assert answer.status_code == 200
    entry = _only(client, admin, "submission.priority_changed")
    _assert_origin(entry, admin, answer)
    assert entry["targetType"] == "submission" and entry["targetId"] == sub
    assert entry["details"] == {"from": 0, "to": 7}


def test_a_rebuild_is_recorded_only_when_not_by_the_owner(
    client: TestClient, alice: Account, admin: Account, session_factory: SessionFactory
) -> None:
    agent, sub = pretend_built(client, session_factory, alice, "bot", status="build_failed")
    assert (
        client.post(f"/api/v1/submissions/{sub}/rebuild", headers=alice.headers).status_code == 200
    )
    assert _log(client, admin)["total"] == 0
    _, other = pretend_built(client, session_factory, alice, "bot2", status="build_failed")
    answer = client.post(f"/api/v1/submissions/{other}/rebuild", headers=admin.headers)
    assert answer.status_code == 200
    entry = _only(client, admin, "submission.rebuilt")
    _assert_origin(entry, admin, answer)
    assert entry["targetId"] == other and entry["details"]["ownerId"] == alice.id
    assert agent not in entry["details"].values()


def test_ladder_pauses_and_resumes_are_recorded(client: TestClient, admin: Account) -> None:
    paused = client.post("/api/v1/ladder/pause", params={"game": "connectx"}, headers=admin.headers)
    assert paused.status_code == 200
    entry = _only(client, admin, "ladder.paused")
    _assert_origin(entry, admin, paused)
    assert entry["targetType"] == "ladder" and entry["details"] == {"game": "connectx"}
    resumed = client.post("/api/v1/ladder/resume", headers=admin.headers)
    entry = _only(client, admin, "ladder.resumed")
    _assert_origin(entry, admin, resumed)
    assert entry["details"] == {"game": None}


def test_tournaments_created_and_cancelled_are_recorded(
    client: TestClient, alice: Account, admin: Account, session_factory: SessionFactory
) -> None:
    for index in range(3):
        pretend_built(client, session_factory, alice, f"entrant-{index}")
    body = {"game": "connectx", "format": "round_robin", "seed": 5}
    started = client.post("/api/v1/tournaments", json=body, headers=admin.headers)
    assert started.status_code == 201, started.text
    tournament = started.json()["id"]
    entry = _only(client, admin, "tournament.created")
    _assert_origin(entry, admin, started)
    assert entry["targetId"] == tournament
    assert entry["details"]["entrants"] == 3 and entry["details"]["seed"] == 5
    cancelled = client.post(f"/api/v1/tournaments/{tournament}/cancel", headers=admin.headers)
    assert cancelled.status_code == 200
    entry = _only(client, admin, "tournament.cancelled")
    _assert_origin(entry, admin, cancelled)
    assert entry["targetId"] == tournament and entry["details"]["matchesCancelled"] >= 1
    # A second cancel is refused (409) and recorded nowhere.
    client.post(f"/api/v1/tournaments/{tournament}/cancel", headers=admin.headers)
    assert _log(client, admin)["total"] == 2


def test_only_admins_read_the_log(client: TestClient, alice: Account) -> None:
    refused = client.get("/api/v1/audit", headers=alice.headers)
    assert refused.status_code == 403
    assert refused.json()["error"] == "Only admins may read the audit log"
    assert client.get("/api/v1/audit").status_code == 401


@pytest.mark.parametrize("method", ["POST", "PUT", "PATCH", "DELETE"])
def test_nothing_writes_or_deletes_the_log_through_the_api(
    client: TestClient, admin: Account, method: str
) -> None:
    client.post("/api/v1/ladder/pause", headers=admin.headers)
    before = _log(client, admin)
    answer = client.request(
        method, "/api/v1/audit", json={"action": "user.created"}, headers=admin.headers
    )
    assert answer.status_code == 405
    entry_id = before["items"][0]["id"]
    assert client.request(
        method, f"/api/v1/audit/{entry_id}", headers=admin.headers
    ).status_code in (
        404,
        405,
    )
    assert _log(client, admin) == before


def test_filters_and_paging_newest_first(
    client: TestClient, alice: Account, bob: Account, admin: Account
) -> None:
    for game in ("connectx", "tictactoe", "rps"):
        client.post("/api/v1/ladder/pause", params={"game": game}, headers=admin.headers)
    signed = client.post(
        "/api/v1/auth/tokens", json={"username": "alice", "password": "alice-password"}
    ).json()
    everything = _log(client, admin)
    assert everything["total"] == 4
    ids = [e["id"] for e in everything["items"]]
    assert ids == sorted(ids, reverse=True)  # newest first
    assert [e["action"] for e in everything["items"]] == ["token.created"] + ["ladder.paused"] * 3
    times = [e["at"] for e in everything["items"]]
    assert times == sorted(times, reverse=True)

    assert _log(client, admin, action="ladder.paused")["total"] == 3
    assert _log(client, admin, actorId=alice.id)["items"][0]["targetId"] == signed["id"]
    assert _log(client, admin, actor="ROOT")["total"] == 3  # names match regardless of case
    assert _log(client, admin, actor="bob")["total"] == 0
    assert _log(client, admin, targetId="tictactoe")["total"] == 1
    page = _log(client, admin, limit=2, offset=1)
    assert page["total"] == 4 and page["limit"] == 2 and page["offset"] == 1
    assert [e["id"] for e in page["items"]] == ids[1:3]

    newest = _time(everything["items"][0]["at"])
    since = _log(client, admin, since=everything["items"][0]["at"])
    assert [e["id"] for e in since["items"]] == [ids[0]]
    until = _log(client, admin, until=everything["items"][0]["at"])
    assert until["total"] == 3
    future = (newest + timedelta(days=1)).replace(tzinfo=None).isoformat()
    assert _log(client, admin, since=future)["total"] == 0  # a time without a zone is UTC

    # A range that ends before it begins holds nothing (the description cannot forbid it).
    inverted = {"since": future, "until": everything["items"][-1]["at"]}
    assert _log(client, admin, **inverted)["total"] == 0
    for bad in (
        {"action": "user.deleted"},
        {"since": "yesterday"},
        {"since": "1767225600"},
        {"limit": 0},
    ):
        answer = client.get("/api/v1/audit", params=bad, headers=admin.headers)
        assert answer.status_code == 422, bad
