"""Token lifetimes through the real app: the default and asked-for expiry, never-expiring
tokens for admins only, the three 401 sentences, the list of one's tokens without secrets,
last use kept to the minute, further tokens for a signed-in user, disabled accounts."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from botarena.accounts.models import ApiToken
from botarena.accounts.service import AccountService
from botarena.clock import utcnow
from botarena.db.engine import SessionFactory

from support.accounts import Account, MakeUser


def _sign_in(client: TestClient, username: str, password: str, **terms: Any) -> Any:
    return client.post(
        "/api/v1/auth/tokens", json={"username": username, "password": password, **terms}
    )


def _bearer(secret: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {secret}"}


def _at(value: str) -> datetime:
    return datetime.fromisoformat(value)


def _move_clock(monkeypatch: pytest.MonkeyPatch, by: timedelta) -> None:
    later = utcnow() + by
    monkeypatch.setattr("botarena.accounts.tokens.utcnow", lambda: later)


def _token_count(factory: SessionFactory) -> int:
    with factory() as session:
        return int(session.scalar(select(func.count()).select_from(ApiToken)) or 0)


def test_a_new_token_lasts_the_default_or_what_is_asked(client: TestClient, alice: Account) -> None:
    default = _sign_in(client, "alice", "alice-password").json()
    assert _at(default["expiresAt"]) - _at(default["createdAt"]) == timedelta(days=90)
    assert default["name"] is None
    short = _sign_in(client, "alice", "alice-password", expiresInDays=1, name="laptop").json()
    assert _at(short["expiresAt"]) - _at(short["createdAt"]) == timedelta(days=1)
    assert short["name"] == "laptop"
    explicit_null = _sign_in(client, "alice", "alice-password", expiresInDays=None).json()
    assert _at(explicit_null["expiresAt"]) - _at(explicit_null["createdAt"]) == timedelta(days=90)


def test_a_token_stops_working_when_it_expires(
    client: TestClient, alice: Account, monkeypatch: pytest.MonkeyPatch
) -> None:
    made = _sign_in(client, "alice", "alice-password", expiresInDays=1).json()
    headers = _bearer(made["token"])
    assert client.get("/api/v1/me", headers=headers).status_code == 200
    _move_clock(monkeypatch, timedelta(hours=23))
    assert client.get("/api/v1/me", headers=headers).status_code == 200
    _move_clock(monkeypatch, timedelta(days=1, seconds=1))
    answer = client.get("/api/v1/me", headers=headers)
    assert answer.status_code == 401
    day = made["expiresAt"][:10]
    assert answer.json()["error"].startswith(f"Token expired on {day} ")
    assert answer.json()["error"].endswith("UTC; sign in again or create a new token")
    assert answer.headers["www-authenticate"] == "Bearer"
    # A public endpoint refuses it too, like any bad token.
    assert client.get("/api/v1/agents", headers=headers).status_code == 401


def test_revoked_expired_and_unknown_tokens_say_which(
    client: TestClient, alice: Account, session_factory: SessionFactory
) -> None:
    revoked = _sign_in(client, "alice", "alice-password").json()
    assert (
        client.delete(f"/api/v1/auth/tokens/{revoked['id']}", headers=alice.headers).status_code
        == 204
    )
    expired = _sign_in(client, "alice", "alice-password").json()
    ended = (utcnow() - timedelta(days=3)).replace(hour=12, minute=30)
    with session_factory() as session:
        row = session.get(ApiToken, expired["id"])
        assert row is not None
        row.expires_at = ended
        session.commit()
    answers = {
        "revoked": client.get("/api/v1/me", headers=_bearer(revoked["token"])),
        "expired": client.get("/api/v1/me", headers=_bearer(expired["token"])),
        "unknown": client.get("/api/v1/me", headers=_bearer("bat_" + "x" * 43)),
    }
    assert {name: a.status_code for name, a in answers.items()} == dict.fromkeys(answers, 401)
    assert answers["revoked"].json()["error"] == "Token revoked"
    assert answers["expired"].json()["error"] == (
        f"Token expired on {ended:%Y-%m-%d} 12:30 UTC; sign in again or create a new token"
    )
    assert answers["unknown"].json()["error"] == "Invalid token"
    for answer in answers.values():
        assert answer.headers["www-authenticate"] == "Bearer"


def test_a_token_without_an_expiry_never_expires(
    client: TestClient,
    alice: Account,
    session_factory: SessionFactory,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # As tokens made before expiries existed are.
    with session_factory() as session:
        session.execute(ApiToken.__table__.update().values(expires_at=None))
        session.commit()
    _move_clock(monkeypatch, timedelta(days=3650))
    assert client.get("/api/v1/me", headers=alice.headers).status_code == 200


def test_only_admins_may_ask_for_a_token_that_never_expires(
    client: TestClient, make_user: MakeUser, alice: Account, session_factory: SessionFactory
) -> None:
    make_user("boss", admin=True, password="boss-password")
    before = _token_count(session_factory)
    refused = _sign_in(client, "alice", "alice-password", neverExpires=True)
    assert refused.status_code == 403
    assert refused.json()["error"] == "Only admins may create tokens that never expire"
    both = _sign_in(client, "boss", "boss-password", neverExpires=True, expiresInDays=5)
    assert both.status_code == 422
    assert both.json()["fields"][0]["field"] == "neverExpires"
    assert _token_count(session_factory) == before
    forever = _sign_in(client, "boss", "boss-password", neverExpires=True)
    assert forever.status_code == 201 and forever.json()["expiresAt"] is None


@pytest.mark.parametrize(
    "terms",
    [
        {"expiresInDays": 0},
        {"expiresInDays": 3651},
        {"expiresInDays": "5"},
        {"expiresInDays": True},
        {"expiresInDays": 2.5},
        {"neverExpires": "yes"},
        {"name": ""},
        {"name": "x" * 65},
        {"name": "bad\nname"},
        {"scope": "all"},
    ],
)
def test_bad_terms_are_refused_and_issue_nothing(
    client: TestClient, alice: Account, session_factory: SessionFactory, terms: dict[str, Any]
) -> None:
    before = _token_count(session_factory)
    answer = _sign_in(client, "alice", "alice-password", **terms)
    assert answer.status_code == 422, answer.text
    assert _token_count(session_factory) == before


def test_listing_shows_ones_own_tokens_and_never_a_secret(
    client: TestClient, alice: Account, bob: Account, session_factory: SessionFactory
) -> None:
    laptop = _sign_in(client, "alice", "alice-password", name="laptop").json()
    gone = _sign_in(client, "alice", "alice-password").json()
    client.delete(f"/api/v1/auth/tokens/{gone['id']}", headers=alice.headers)
    answer = client.get("/api/v1/auth/tokens", headers=_bearer(laptop["token"]))
    assert answer.status_code == 200
    page = answer.json()
    assert page["total"] == 3 and page["limit"] == 50 and page["offset"] == 0
    items = {item["id"]: item for item in page["items"]}
    assert set(items[laptop["id"]]) == {
        "id", "name", "createdAt", "lastUsedAt", "expiresAt", "revokedAt", "active", "current",
    }  # fmt: skip
    assert items[laptop["id"]]["name"] == "laptop"
    assert items[laptop["id"]]["current"] is True and items[laptop["id"]]["active"] is True
    assert items[laptop["id"]]["lastUsedAt"] is not None
    assert items[gone["id"]]["active"] is False and items[gone["id"]]["revokedAt"] is not None
    assert [i["current"] for i in page["items"]].count(True) == 1
    with session_factory() as session:
        hashes = list(session.scalars(select(ApiToken.token_hash)))
    for secret in (alice.token, laptop["token"], gone["token"], bob.token, *hashes):
        assert secret not in answer.text
    # Bob sees only his own; nobody lists without a token.
    bobs = client.get("/api/v1/auth/tokens", headers=bob.headers).json()
    assert bobs["total"] == 1 and bobs["items"][0]["current"] is True
    assert not set(items) & {t["id"] for t in bobs["items"]}
    assert client.get("/api/v1/auth/tokens").status_code == 401
    paged = client.get(
        "/api/v1/auth/tokens", params={"limit": 1, "offset": 1}, headers=alice.headers
    )
    assert paged.json()["total"] == 3 and [t["id"] for t in paged.json()["items"]] == [laptop["id"]]


def test_last_use_is_kept_to_the_minute(
    client: TestClient,
    alice: Account,
    session_factory: SessionFactory,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    def last_used() -> datetime | None:
        with session_factory() as session:
            row = session.scalar(select(ApiToken).where(ApiToken.user_id == alice.id))
            assert row is not None
            return row.last_used_at

    assert last_used() is None
    client.get("/api/v1/me", headers=alice.headers)
    first = last_used()
    assert first is not None
    _move_clock(monkeypatch, timedelta(seconds=30))
    client.get("/api/v1/me", headers=alice.headers)
    assert last_used() == first  # no write within the minute
    _move_clock(monkeypatch, timedelta(minutes=2))
    client.get("/api/v1/me", headers=alice.headers)
    later = last_used()
    assert later is not None and later - first >= timedelta(minutes=2)


def test_a_signed_in_user_gets_a_further_token_without_a_password(
    client: TestClient, alice: Account, bob: Account
) -> None:
    made = client.post("/api/v1/me/tokens", json={"expiresInDays": 7}, headers=bob.headers)
    assert made.status_code == 201
    body = made.json()
    assert _at(body["expiresAt"]) - _at(body["createdAt"]) == timedelta(days=7)
    assert client.get("/api/v1/me", headers=_bearer(body["token"])).json()["username"] == "bob"
    assert client.post("/api/v1/me/tokens", json={}).status_code == 401
    forever = client.post("/api/v1/me/tokens", json={"neverExpires": True}, headers=bob.headers)
    assert forever.status_code == 403


def test_a_disabled_account_cannot_sign_in_nor_use_its_tokens(
    client: TestClient, alice: Account, session_factory: SessionFactory
) -> None:
    with session_factory() as session:
        assert AccountService(session).set_disabled("alice", True)
    answer = client.get("/api/v1/me", headers=alice.headers)
    assert answer.status_code == 401 and answer.json()["error"] == "Account disabled"
    signed = _sign_in(client, "alice", "alice-password")
    assert signed.status_code == 401 and signed.json()["error"] == "Account disabled"
    wrong = _sign_in(client, "alice", "not-her-password")
    assert wrong.json()["error"] == "Invalid username or password"
    with session_factory() as session:
        assert AccountService(session).set_disabled("alice", False)
    assert client.get("/api/v1/me", headers=alice.headers).status_code == 200
