"""The pages' safety around accounts: sign-up makes no API token, every web sign-in and each
failure is in the audit log (never a password or a link's secret), failed sign-ins are
limited per username and per address, and every answer carries the security headers and a
cookie that scripts cannot read."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from botarena.accounts.login_links import LoginLinkService
from botarena.accounts.models import ApiToken, User
from botarena.accounts.service import AccountService
from botarena.app import create_app
from botarena.audit.models import AuditEntry
from botarena.db.engine import SessionFactory
from botarena.settings import Settings
from botarena.web.sessions import COOKIE

from support.accounts import Account
from support.competitors import pretend_built
from support.pages import page_of, play_ranked, sign_in


def _factory(client: TestClient) -> SessionFactory:
    factory: SessionFactory = client.app.state.session_factory  # type: ignore[attr-defined]
    return factory


def _entries(client: TestClient, action: str) -> list[dict[str, Any]]:
    with _factory(client)() as session:
        rows = session.scalars(select(AuditEntry).where(AuditEntry.action == action))
        return [
            {
                "actor_id": row.actor_id,
                "actor": row.actor_name,
                "address": row.client_address,
                "details": json.loads(row.details),
                "raw": row.details,
            }
            for row in rows
        ]


@pytest.fixture
def open_client(settings: Settings) -> Iterator[TestClient]:
    with TestClient(create_app(settings.model_copy(update={"signup": "open"}))) as client:
        yield client


def test_sign_up_makes_a_session_and_no_api_token(open_client: TestClient) -> None:
    token = page_of(open_client.get("/signup")).csrf()
    form = {"username": "dave", "password": "dave-password", "confirm": "dave-password"}
    made = open_client.post("/signup", data={"csrf_token": token, **form}, follow_redirects=False)
    assert made.status_code == 303
    with _factory(open_client)() as session:
        user = session.scalars(select(User).where(User.username == "dave")).one()
        assert list(session.scalars(select(ApiToken))) == []
    assert _entries(open_client, "token.created") == []
    [created] = _entries(open_client, "user.created")
    assert created["actor_id"] == user.id  # the user made their own account
    [signed] = _entries(open_client, "user.signed_in")
    assert signed["actor_id"] == user.id and signed["details"]["method"] == "sign_up"
    # Signed in with the session; tokens are made on /me.
    assert page_of(open_client.get("/me")).all("table", id="token-list") == []


def test_the_command_line_still_makes_a_user_with_a_first_token(settings: Settings) -> None:
    with TestClient(create_app(settings)) as client, _factory(client)() as session:
        user, issued = AccountService(session).create_user("erin", "erin-password")
        assert issued.token.user_id == user.id


def test_web_sign_ins_and_failures_are_audited_without_secrets(
    client: TestClient, alice: Account
) -> None:
    assert sign_in(client, "alice", "wrong-password-123").status_code == 401
    assert sign_in(client, "nobody", "another-guess-456").status_code == 401
    assert sign_in(client, "alice", "alice-password").status_code == 303
    [signed] = _entries(client, "user.signed_in")
    assert signed["actor_id"] == alice.id and signed["actor"] == "alice"
    assert signed["details"] == {"username": "alice", "method": "password"}
    assert signed["address"] == "testclient"
    failed = _entries(client, "user.sign_in_failed")
    assert [(f["actor_id"], f["actor"]) for f in failed] == [(None, "anonymous")] * 2
    assert [f["details"] for f in failed] == [
        {"username": "alice", "method": "password", "reason": "Invalid username or password"},
        {"username": "nobody", "method": "password", "reason": "Invalid username or password"},
    ]
    everything = json.dumps([signed, *failed])
    for secret in ("wrong-password-123", "another-guess-456", "alice-password"):
        assert secret not in everything


def test_login_links_are_audited_and_limited_per_address(settings: Settings) -> None:
    strict = settings.model_copy(update={"login_max_failures": 2})
    with TestClient(create_app(strict)) as client:
        with _factory(client)() as session:
            user, _ = AccountService(session).create_user("carol", "carol-password")
            secret = LoginLinkService(session).issue(user).secret
        used = client.get("/login/once", params={"token": secret}, follow_redirects=False)
        assert used.status_code == 303
        [signed] = _entries(client, "user.signed_in")
        assert signed["actor"] == "carol" and signed["details"]["method"] == "login_link"
        client.cookies.clear()
        again = client.get("/login/once", params={"token": secret})
        assert again.status_code == 401
        assert client.get("/login/once", params={"token": "bal_guess"}).status_code == 401
        locked = client.get("/login/once", params={"token": "bal_another"})
        assert locked.status_code == 429 and int(locked.headers["retry-after"]) >= 1
        assert "Too many failed sign-ins" in page_of(locked).all("p", role="alert")[0].text
        failed = _entries(client, "user.sign_in_failed")  # the lockout itself is not recorded
        assert [f["details"]["reason"] for f in failed] == [
            "This login link was already used",
            "Invalid login link",
        ]
        assert all(secret not in f["raw"] and "bal_guess" not in f["raw"] for f in failed)


def test_failed_sign_ins_are_limited_per_address_across_usernames(settings: Settings) -> None:
    strict = settings.model_copy(update={"login_max_failures": 3})
    with TestClient(create_app(strict)) as client:
        with _factory(client)() as session:
            AccountService(session).create_user("carol", "carol-password")
        for name in ("ann", "ben", "cid"):  # three names, one address
            assert sign_in(client, name, "wrong-password").status_code == 401
        locked = sign_in(client, "carol", "carol-password")  # a fresh name, the right password
        assert locked.status_code == 429
        message = page_of(locked).all("p", role="alert")[0].text
        assert "for this username or from this address is locked" in message
        assert len(_entries(client, "user.sign_in_failed")) == 3
        assert _entries(client, "user.signed_in") == []
        # Another address is not locked out of carol's account.
        other = TestClient(client.app, client=("192.0.2.7", 50000))
        assert sign_in(other, "carol", "carol-password").status_code == 303


# --- headers -----------------------------------------------------------------------------


def _directives(policy: str) -> dict[str, list[str]]:
    parts = (part.split() for part in policy.split(";") if part.strip())
    return {words[0]: words[1:] for words in parts}


def _assert_safe_headers(answer: Any, where: str) -> None:
    headers = answer.headers
    assert headers["x-content-type-options"] == "nosniff", where
    assert headers["referrer-policy"] in ("no-referrer", "same-origin", "strict-origin"), where
    policy = _directives(headers["content-security-policy"])
    assert policy["frame-ancestors"] == ["'none'"], where
    scripts = policy.get("script-src", policy["default-src"])
    assert "'unsafe-inline'" not in scripts and "'unsafe-eval'" not in scripts, where
    assert all(s in ("'self'", "'none'") for s in scripts), where
    assert policy.get("object-src", policy["default-src"]) in (["'none'"], ["'self'"]), where


def test_every_kind_of_answer_carries_the_security_headers(
    client: TestClient,
    session_factory: SessionFactory,
    settings: Settings,
    alice: Account,
    bob: Account,
    admin: Account,
) -> None:
    agent, sub = pretend_built(client, session_factory, alice, "first")
    other, _ = pretend_built(client, session_factory, bob, "second")
    match = play_ranked(client, session_factory, settings, admin, (agent, other), 0)
    static = page_of(client.get("/")).all("link", rel="stylesheet")[0].attrs["href"]
    anonymous = ["/", "/login", "/games/connectx", "/matches", f"/matches/{match}", static]
    for path in anonymous:
        answer = client.get(path)
        assert answer.status_code == 200, path
        _assert_safe_headers(answer, path)
    for path, status in (("/agents/nope", 404), ("/games/chess", 404), ("/me", 303)):
        answer = client.get(path, follow_redirects=False)
        assert answer.status_code == status, path
        _assert_safe_headers(answer, path)
    refused = client.post("/logout", follow_redirects=False)  # no CSRF token
    assert refused.status_code == 403
    _assert_safe_headers(refused, "403")
    answer = sign_in(client, "alice", "alice-password")
    _assert_safe_headers(answer, "POST /login")
    for path in ("/me", f"/agents/{agent}", f"/submissions/{sub}"):
        answer = client.get(path)
        assert answer.status_code == 200, path
        _assert_safe_headers(answer, path)


def _cookie(answer: Any) -> list[str]:
    cookie = answer.headers["set-cookie"]
    assert cookie.startswith(f"{COOKIE}=")
    return [flag.strip() for flag in cookie.split(";")[1:]]


@pytest.mark.parametrize(
    ("public_url", "base_url", "secure"),
    [
        (None, "http://testserver", False),
        (None, "https://testserver", True),
        ("https://arena.example.org", "http://testserver", True),
        ("http://arena.example.org", "http://testserver", False),
    ],
)
def test_the_session_cookie_is_http_only_lax_and_secure_over_https(
    settings: Settings, public_url: str | None, base_url: str, secure: bool
) -> None:
    chosen = settings.model_copy(update={"public_url": public_url})
    with TestClient(create_app(chosen), base_url=base_url) as client:
        with _factory(client)() as session:
            AccountService(session).create_user("carol", "carol-password")
        answers = [client.get("/login")]  # the session's CSRF token
        # A client on plain http does not send a Secure cookie back: it cannot sign in there.
        if base_url.startswith("https") or not secure:
            answers.append(sign_in(client, "carol", "carol-password"))
            token = page_of(client.get("/")).csrf()
            answers.append(
                client.post("/logout", data={"csrf_token": token}, follow_redirects=False)
            )
            assert [a.status_code for a in answers] == [200, 303, 303]
        for answer in answers:
            flags = _cookie(answer)
            assert "HttpOnly" in flags and "SameSite=Lax" in flags and "Path=/" in flags
            assert ("Secure" in flags) is secure, flags
