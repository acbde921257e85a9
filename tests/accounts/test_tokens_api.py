"""Tokens: issued for a password, stored only as hashes, revocable; the 401 rules."""

from __future__ import annotations

from fastapi.testclient import TestClient
from sqlalchemy import select

from botarena.accounts.models import ApiToken, User
from botarena.db.engine import SessionFactory

from support.accounts import Account


def test_password_gives_a_token_that_works(client: TestClient, alice: Account) -> None:
    answer = client.post(
        "/api/v1/auth/tokens", json={"username": "alice", "password": "alice-password"}
    )
    assert answer.status_code == 201
    body = answer.json()
    assert set(body) == {"id", "token", "name", "createdAt", "expiresAt"}
    assert body["id"].startswith("tok-") and body["token"].startswith("bat_")
    me = client.get("/api/v1/me", headers={"Authorization": f"Bearer {body['token']}"})
    assert me.status_code == 200
    assert me.json()["username"] == "alice"
    assert me.json()["role"] == "participant"


def test_username_is_case_insensitive_for_sign_in(client: TestClient, alice: Account) -> None:
    answer = client.post(
        "/api/v1/auth/tokens", json={"username": "ALICE", "password": "alice-password"}
    )
    assert answer.status_code == 201


def test_wrong_password_and_unknown_user_get_the_same_401(
    client: TestClient, alice: Account
) -> None:
    wrong = client.post("/api/v1/auth/tokens", json={"username": "alice", "password": "nope"})
    unknown = client.post("/api/v1/auth/tokens", json={"username": "zed", "password": "nope"})
    assert wrong.status_code == unknown.status_code == 401
    assert wrong.json() == unknown.json()
    assert wrong.json()["error"] == "Invalid username or password"


def test_token_only_user_cannot_sign_in_with_a_password(client: TestClient, bob: Account) -> None:
    answer = client.post("/api/v1/auth/tokens", json={"username": "bob", "password": ""})
    assert answer.status_code == 422
    answer = client.post("/api/v1/auth/tokens", json={"username": "bob", "password": "x" * 10})
    assert answer.status_code == 401


def test_database_holds_no_usable_token(
    client: TestClient, alice: Account, session_factory: SessionFactory
) -> None:
    secret = alice.token
    with session_factory() as session:
        rows = session.scalars(select(ApiToken)).all()
        users = session.scalars(select(User)).all()
    assert rows
    for row in rows:
        assert secret not in (row.token_hash, row.id)
        assert secret[4:] not in row.token_hash
        # The stored hash is not itself accepted as a token.
        forged = client.get("/api/v1/me", headers={"Authorization": f"Bearer {row.token_hash}"})
        assert forged.status_code == 401
    for user in users:
        assert user.password_hash is None or user.password_hash.startswith("$argon2id$")
        assert "alice-password" not in (user.password_hash or "")


def test_revoked_token_stops_working(client: TestClient, alice: Account) -> None:
    issued = client.post(
        "/api/v1/auth/tokens", json={"username": "alice", "password": "alice-password"}
    ).json()
    headers = {"Authorization": f"Bearer {issued['token']}"}
    assert client.delete(f"/api/v1/auth/tokens/{issued['id']}", headers=headers).status_code == 204
    after = client.get("/api/v1/me", headers=headers)
    assert after.status_code == 401
    assert after.json()["error"] == "Token revoked"
    # The first token is untouched.
    assert client.get("/api/v1/me", headers=alice.headers).status_code == 200


def test_someone_elses_token_cannot_be_revoked(
    client: TestClient, alice: Account, bob: Account
) -> None:
    issued = client.post(
        "/api/v1/auth/tokens", json={"username": "alice", "password": "alice-password"}
    ).json()
    answer = client.delete(f"/api/v1/auth/tokens/{issued['id']}", headers=bob.headers)
    assert answer.status_code == 404
    assert answer.json() == {"error": "Token not found"}
    me = client.get("/api/v1/me", headers={"Authorization": f"Bearer {issued['token']}"})
    assert me.status_code == 200


def test_missing_and_malformed_tokens_are_401(client: TestClient) -> None:
    assert client.get("/api/v1/me").json()["error"] == "Authentication required"
    for header in ("Bearer", "Basic abc", "Bearer nonsense", "bearer  "):
        answer = client.get("/api/v1/me", headers={"Authorization": header})
        assert answer.status_code == 401, header
        assert answer.headers["www-authenticate"] == "Bearer"
    # A bad token is refused even where no token is needed.
    public = client.get("/api/v1/agents", headers={"Authorization": "Bearer nonsense"})
    assert public.status_code == 401
