"""``/me``: one's API tokens made, listed and revoked through the pages (the secret shown in
one answer only), the same tokens as the API's, the audit log's entries, and the command
line's sign-in hint."""

from __future__ import annotations

import logging
from typing import Any

import pytest
from fastapi.testclient import TestClient

from botarena.accounts.login_links import LoginLinkService
from botarena.accounts.models import User
from botarena.accounts.service import AccountService
from botarena.app import create_app
from botarena.db.engine import SessionFactory
from botarena.settings import Settings

from support.accounts import Account
from support.pages import Page, page_of, sign_in

# Reads through queries (or, live, notices) no other test runs on PostgreSQL.
BOTH_DATABASES = True


def _bearer(secret: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {secret}"}


def _create(client: TestClient, **fields: str) -> Any:
    token = page_of(client.get("/me")).csrf()
    return client.post("/me/tokens", data={"csrf_token": token, **fields})


def _audit(client: TestClient, admin: Account, action: str) -> list[dict[str, Any]]:
    answer = client.get("/api/v1/audit", params={"action": action}, headers=admin.headers)
    assert answer.status_code == 200, answer.text
    items: list[dict[str, Any]] = answer.json()["items"]
    return items


def _rows(page: Page) -> list[str]:
    return [row.text for row in page.all("tr")[1:]]


def test_signed_out_the_page_and_its_forms_send_to_sign_in(client: TestClient) -> None:
    answer = client.get("/me", follow_redirects=False)
    assert answer.status_code == 303 and answer.headers["location"] == "/login?next=/me"
    token = page_of(client.get("/login")).csrf()
    for path in ("/me/tokens", "/me/tokens/tok-x/revoke"):
        posted = client.post(path, data={"csrf_token": token}, follow_redirects=False)
        assert posted.status_code == 303 and posted.headers["location"] == "/login?next=/me"


def test_a_token_made_on_the_page_is_shown_once_and_works_with_the_api(
    client: TestClient,
    alice: Account,
    admin: Account,
    caplog: pytest.LogCaptureFixture,
    capfd: pytest.CaptureFixture[str],
) -> None:
    assert sign_in(client, "alice", "alice-password").status_code == 303
    caplog.set_level(logging.DEBUG)
    made = _create(client, name="laptop", days="30")
    assert made.status_code == 200
    assert made.headers["cache-control"] == "no-store"
    page = page_of(made)
    secret = page.by_id("secret").attrs["value"]
    assert len(secret) >= 32 and "readonly" in page.by_id("secret").attrs
    assert "shown this once" in page.by_id("secret-hint").text
    listed = client.get("/api/v1/auth/tokens", headers=_bearer(secret))
    assert listed.status_code == 200
    items = {item["name"]: item for item in listed.json()["items"]}
    assert set(items) == {None, "laptop"}  # the fixture's first token and this one
    laptop = items["laptop"]
    assert laptop["active"] and laptop["lastUsedAt"] is not None
    # Never again: not on the page, not in the cookie, not in the log.
    again = client.get("/me")
    assert secret not in again.text and secret not in str(client.cookies.jar)
    assert secret not in caplog.text and secret not in "".join(capfd.readouterr())
    row = next(r for r in _rows(page_of(again)) if "laptop" in r)
    assert laptop["id"] in row and "active" in row
    created = _audit(client, admin, "token.created")
    assert [e["targetId"] for e in created] == [laptop["id"]]
    assert created[0]["actor"] == "alice" and created[0]["details"]["method"] == "session"
    assert secret not in str(created)


def test_the_list_shows_what_the_api_lists_and_no_secret(
    client: TestClient, alice: Account
) -> None:
    more = client.post("/api/v1/me/tokens", json={"name": "ci"}, headers=alice.headers).json()
    client.delete(f"/api/v1/auth/tokens/{more['id']}", headers=alice.headers)
    assert sign_in(client, "alice", "alice-password").status_code == 303
    page = page_of(client.get("/me"))
    api = client.get("/api/v1/auth/tokens", headers=alice.headers).json()["items"]
    rows = _rows(page)
    assert len(rows) == len(api) == 2
    for item, row in zip(api, rows, strict=True):
        assert item["id"] in row and item["createdAt"][:10] in row
        assert (item["name"] or "—") in row
    assert "revoked" in rows[1] and "Revoke" not in rows[1]  # a revoked token has no button
    assert "active" in rows[0]
    assert [b.attrs["aria-label"] for b in page.all("button") if b.text == "Revoke"] == [
        f"Revoke token {api[0]['id']}"
    ]
    assert alice.token not in client.get("/me").text and more["token"] not in page.text


@pytest.mark.parametrize(
    ("fields", "field", "message"),
    [
        ({"name": "x" * 65}, "name", "at most 64 characters"),
        ({"name": "two\nlines"}, "name", "no control characters"),
        ({"days": "soon"}, "days", "whole number of days"),
        ({"days": "0"}, "days", "1 to 3650 days"),
        ({"days": "3651"}, "days", "1 to 3650 days"),
    ],
)
def test_bad_input_comes_back_next_to_the_field_and_makes_nothing(
    client: TestClient, alice: Account, fields: dict[str, str], field: str, message: str
) -> None:
    assert sign_in(client, "alice", "alice-password").status_code == 303
    answer = _create(client, **fields)
    assert answer.status_code == 400
    page = page_of(answer)
    assert message in page.by_id(f"{field}-error").text
    assert page.all("input", id=f"token-{field}")[0].attrs["aria-invalid"] == "true"
    assert page.all("input", id="secret") == []
    listed = client.get("/api/v1/auth/tokens", headers=alice.headers).json()
    assert listed["total"] == 1


def test_revoking_ends_the_token_and_only_ones_own(
    client: TestClient, alice: Account, bob: Account, admin: Account
) -> None:
    assert sign_in(client, "alice", "alice-password").status_code == 303
    secret = page_of(_create(client, name="old")).by_id("secret").attrs["value"]
    token_id = client.get("/api/v1/auth/tokens", headers=_bearer(secret)).json()["items"][1]["id"]
    csrf = page_of(client.get("/me")).csrf()
    done = client.post(
        f"/me/tokens/{token_id}/revoke", data={"csrf_token": csrf}, follow_redirects=False
    )
    assert done.status_code == 303 and done.headers["location"] == "/me#tokens"
    refused = client.get("/api/v1/auth/tokens", headers=_bearer(secret))
    assert refused.status_code == 401 and refused.json()["error"] == "Token revoked"
    assert [e["targetId"] for e in _audit(client, admin, "token.revoked")] == [token_id]
    # Someone else's token: not found, and it keeps working. Admins too: /me is one's own.
    bobs = client.get("/api/v1/auth/tokens", headers=bob.headers).json()["items"][0]["id"]
    for who in ("alice", "root"):
        if who == "root":
            client.cookies.clear()
            _sign_in_with_a_link(client, admin)
        csrf = page_of(client.get("/me")).csrf()
        missing = client.post(f"/me/tokens/{bobs}/revoke", data={"csrf_token": csrf})
        assert missing.status_code == 404, who
        assert "Token not found" in page_of(missing).text
    assert client.get("/api/v1/me", headers=bob.headers).status_code == 200
    unknown = client.post("/me/tokens/tok-nope/revoke", data={"csrf_token": csrf})
    assert unknown.status_code == 404


def _sign_in_with_a_link(client: TestClient, account: Account) -> None:
    """Sign in through a one-time login link (the account has no password)."""
    factory: SessionFactory = client.app.state.session_factory  # type: ignore[attr-defined]
    with factory() as session:
        user = session.get(User, account.id)
        assert user is not None
        secret = LoginLinkService(session).issue(user).secret
    answer = client.get("/login/once", params={"token": secret}, follow_redirects=False)
    assert answer.status_code == 303


def test_the_command_line_hint_names_this_server_and_the_user(
    client: TestClient, alice: Account, settings: Settings
) -> None:
    assert sign_in(client, "alice", "alice-password").status_code == 303
    page = page_of(client.get("/me"))
    assert page.by_id("cli-login").text == (
        "botarena login --server http://testserver --username alice"
    )
    assert "export BOTARENA_SERVER=http://testserver" in page.by_id("cli-env").text
    assert "export BOTARENA_TOKEN=" in page.by_id("cli-env").text
    public = settings.model_copy(update={"public_url": "https://arena.example.org/"})
    with TestClient(create_app(public), base_url="https://testserver") as other:
        factory: SessionFactory = other.app.state.session_factory  # type: ignore[attr-defined]
        with factory() as session:
            AccountService(session).create_user("erin", "erin-password")
        assert sign_in(other, "erin", "erin-password").status_code == 303
        hint = page_of(other.get("/me")).by_id("cli-login").text
        assert hint == "botarena login --server https://arena.example.org --username erin"


def test_the_nav_links_to_the_account_page(client: TestClient, alice: Account) -> None:
    assert sign_in(client, "alice", "alice-password").status_code == 303
    link = page_of(client.get("/me")).all("a", class_="viewer")[0]
    assert link.attrs["href"] == "/me" and link.attrs["aria-current"] == "page"
    assert link.text == "My account (alice)"
    assert page_of(client.get("/")).all("a", class_="viewer")[0].attrs.get("aria-current") is None
