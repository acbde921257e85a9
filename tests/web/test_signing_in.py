"""Signing in and out of the pages, signing up, the session cookie and CSRF tokens."""

from __future__ import annotations

import stat

import pytest
from fastapi.testclient import TestClient
from pydantic import SecretStr

from botarena.accounts.models import User
from botarena.accounts.service import AccountService
from botarena.app import create_app
from botarena.db.engine import SessionFactory
from botarena.settings import Settings
from botarena.web.sessions import COOKIE, secret_key

from support.accounts import Account
from support.pages import page_of, sign_in


def _users(factory: SessionFactory) -> list[str]:
    with factory() as session:
        return sorted(u.username for u in session.query(User))


def _nav(client: TestClient) -> str:
    return page_of(client.get("/")).all("nav", **{"aria-label": "Main"})[0].text


def test_sign_in_and_out(client: TestClient, alice: Account) -> None:
    assert "Sign in" in _nav(client)
    answer = sign_in(client, "alice", "alice-password")
    assert answer.status_code == 303 and answer.headers["location"] == "/"
    cookie = answer.headers["set-cookie"]
    assert cookie.startswith(f"{COOKIE}=")
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie and "Path=/" in cookie
    assert "Secure" not in cookie  # plain http, no https public URL
    nav = _nav(client)
    assert "alice" in nav and "Sign out" in nav and "Sign in" not in nav
    # The API does not take the cookie: it keeps to Bearer tokens.
    assert client.get("/api/v1/me").status_code == 401
    token = page_of(client.get("/")).csrf()
    out = client.post("/logout", data={"csrf_token": token}, follow_redirects=False)
    assert out.status_code == 303
    assert "Sign in" in _nav(client)


def test_sign_in_goes_back_to_a_page_of_this_site_only(client: TestClient, alice: Account) -> None:
    token = page_of(client.get("/login", params={"next": "/games/rps"})).csrf()
    form = {"csrf_token": token, "username": "alice", "password": "alice-password"}
    answer = client.post("/login", data={**form, "next": "/games/rps"}, follow_redirects=False)
    assert answer.headers["location"] == "/games/rps"
    client.cookies.clear()
    token = page_of(client.get("/login")).csrf()
    form["csrf_token"] = token
    answer = client.post(
        "/login", data={**form, "next": "//evil.example/x"}, follow_redirects=False
    )
    assert answer.headers["location"] == "/"


def test_a_wrong_password_comes_back_as_the_form(client: TestClient, alice: Account) -> None:
    answer = sign_in(client, "alice", "not-her-password")
    assert answer.status_code == 401
    page = page_of(answer)
    assert page.all("p", role="alert")[0].text == "Invalid username or password"
    assert page.all("input", name="username")[0].attrs["value"] == "alice"
    assert page.all("input", name="password")[0].attrs.get("value") is None
    assert "Sign in" in _nav(client)


def test_empty_fields_are_named_next_to_them(client: TestClient) -> None:
    token = page_of(client.get("/login")).csrf()
    answer = client.post("/login", data={"csrf_token": token, "username": " "})
    assert answer.status_code == 400
    page = page_of(answer)
    assert page.by_id("username-error").text == "Enter your username."
    assert page.by_id("password-error").text == "Enter your password."
    assert page.all("input", name="username")[0].attrs["aria-describedby"] == "username-error"


def test_failed_sign_ins_are_limited_with_a_clear_429(strict_settings: Settings) -> None:
    with TestClient(create_app(strict_settings)) as client:
        factory: SessionFactory = client.app.state.session_factory  # type: ignore[attr-defined]
        with factory() as session:
            AccountService(session).create_user("carol", "carol-password")
        for _ in range(2):
            assert sign_in(client, "carol", "wrong-password").status_code == 401
        locked = sign_in(client, "carol", "carol-password")
        assert locked.status_code == 429
        assert int(locked.headers["retry-after"]) >= 1
        message = page_of(locked).all("p", role="alert")[0].text
        assert message.startswith("Too many failed sign-ins. Sign-in for this username")
        assert "try again in" in message
        assert "carol" not in _nav(client)


@pytest.fixture
def strict_settings(settings: Settings) -> Settings:
    return settings.model_copy(update={"login_max_failures": 2})


def test_a_post_without_the_csrf_token_is_refused_and_changes_nothing(
    client: TestClient, alice: Account
) -> None:
    assert sign_in(client, "alice", "alice-password").status_code == 303
    for data in ({}, {"csrf_token": "forged"}):
        answer = client.post("/logout", data=data, follow_redirects=False)
        assert answer.status_code == 403
        assert "did not come from this site" in page_of(answer).text
        assert "alice" in _nav(client)  # still signed in
    refused = client.post(
        "/login", data={"username": "alice", "password": "alice-password"}, follow_redirects=False
    )
    assert refused.status_code == 403


def test_htmx_requests_carry_the_token_in_a_header(client: TestClient, alice: Account) -> None:
    assert sign_in(client, "alice", "alice-password").status_code == 303
    body = page_of(client.get("/")).all("body")[0]
    token = page_of(client.get("/")).csrf()
    assert body.attrs["hx-headers"] == f'{{"X-CSRF-Token": "{token}"}}'
    wrong = client.post("/logout", headers={"X-CSRF-Token": "forged"}, follow_redirects=False)
    assert wrong.status_code == 403
    assert "alice" in _nav(client)
    right = client.post("/logout", headers={"X-CSRF-Token": token}, follow_redirects=False)
    assert right.status_code == 303
    assert "Sign in" in _nav(client)


def test_a_token_of_another_session_is_refused(client: TestClient, settings: Settings) -> None:
    other_token = page_of(client.get("/login")).csrf()
    client.cookies.clear()
    page_of(client.get("/login"))  # a session of its own
    answer = client.post(
        "/login", data={"csrf_token": other_token, "username": "x", "password": "y"}
    )
    assert answer.status_code == 403


def test_a_forged_cookie_is_ignored(client: TestClient, alice: Account) -> None:
    assert sign_in(client, "alice", "alice-password").status_code == 303
    value = client.cookies[COOKIE]
    client.cookies.clear()
    client.cookies.set(COOKIE, value[:-2] + ("AA" if not value.endswith("AA") else "BB"))
    assert "Sign in" in _nav(client)


def test_signup_is_closed_by_default(client: TestClient) -> None:
    answer = client.get("/signup")
    assert answer.status_code == 404
    assert "made by an administrator" in page_of(answer).text
    posted = client.post(
        "/signup",
        data={
            "csrf_token": page_of(client.get("/login")).csrf(),
            "username": "mallory",
            "password": "mallory-password",
            "confirm": "mallory-password",
        },
    )
    assert posted.status_code == 404
    factory: SessionFactory = client.app.state.session_factory  # type: ignore[attr-defined]
    assert "mallory" not in _users(factory)


@pytest.fixture
def open_client(settings: Settings) -> TestClient:
    return TestClient(create_app(settings.model_copy(update={"signup": "open"})))


def test_signup_when_open_creates_the_account_and_signs_in(open_client: TestClient) -> None:
    with open_client as client:
        factory: SessionFactory = client.app.state.session_factory  # type: ignore[attr-defined]
        token = page_of(client.get("/signup")).csrf()
        form = {"csrf_token": token, "username": "dave", "password": "dave-password"}
        differ = client.post("/signup", data={**form, "confirm": "other-password"})
        assert differ.status_code == 400
        assert page_of(differ).by_id("confirm-error").text == "The two passwords differ."
        short = client.post("/signup", data={**form, "password": "short", "confirm": "short"})
        assert "at least 8 characters" in page_of(short).by_id("password-error").text
        bad_name = client.post(
            "/signup",
            data={
                **form,
                "username": "<img src=x onerror=alert(1)>",
                "confirm": "dave-password",
            },
        )
        page = page_of(bad_name)
        assert "Username must be" in page.by_id("username-error").text
        assert page.all("input", name="username")[0].attrs["value"] == (
            "<img src=x onerror=alert(1)>"
        )
        assert "<img src=x" not in bad_name.text and page.all("img") == []
        assert _users(factory) == []
        made = client.post(
            "/signup", data={**form, "confirm": "dave-password"}, follow_redirects=False
        )
        assert made.status_code == 303
        assert _users(factory) == ["dave"]
        assert "dave" in _nav(client)
        again = {**form, "confirm": "dave-password", "csrf_token": page_of(client.get("/")).csrf()}
        taken = client.post("/signup", data=again)
        assert taken.status_code == 400
        assert "already exists" in page_of(taken).by_id("username-error").text


def test_the_cookie_is_secure_behind_https(settings: Settings) -> None:
    secure = settings.model_copy(update={"public_url": "https://arena.example.org"})
    with TestClient(create_app(secure)) as client:
        answer = client.get("/login")
        assert "; Secure" in answer.headers["set-cookie"]
    with TestClient(create_app(settings), base_url="https://testserver") as client:
        assert "; Secure" in client.get("/login").headers["set-cookie"]


def test_the_secret_is_made_once_and_kept_private(settings: Settings) -> None:
    first = secret_key(settings)
    path = settings.data_dir / "session-secret"
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert secret_key(settings) == first and len(first) >= 32
    configured = settings.model_copy(update={"secret_key": SecretStr("x" * 40)})
    assert secret_key(configured) == "x" * 40
    assert "x" * 40 not in repr(configured)


def test_a_cookie_signed_with_another_key_is_ignored(
    settings: Settings, alice: Account, client: TestClient
) -> None:
    assert sign_in(client, "alice", "alice-password").status_code == 303
    value = client.cookies[COOKIE]
    other = settings.model_copy(update={"secret_key": SecretStr("y" * 40)})
    with TestClient(create_app(other)) as second:
        second.cookies.set(COOKIE, value)
        assert "Sign in" in _nav(second)
