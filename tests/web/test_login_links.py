"""``/login/once``: a one-time login link (``serve --demo`` prints one) signs its user in
once; a used, unknown or expired link gets the sign-in form with the reason, nobody signed in."""

from __future__ import annotations

from datetime import timedelta

from fastapi.testclient import TestClient

from botarena.accounts.login_links import LoginLinkService
from botarena.accounts.models import User
from botarena.db.engine import SessionFactory

from support.accounts import Account
from support.pages import page_of


def _link(factory: SessionFactory, account: Account, lifetime: timedelta | None = None) -> str:
    with factory() as session:
        user = session.get(User, account.id)
        assert user is not None
        service = LoginLinkService(session)
        issued = service.issue(user) if lifetime is None else service.issue(user, lifetime=lifetime)
        return issued.secret


def _nav(client: TestClient) -> str:
    return page_of(client.get("/")).all("nav", **{"aria-label": "Main"})[0].text


def test_a_link_signs_in_once(
    client: TestClient, alice: Account, session_factory: SessionFactory
) -> None:
    secret = _link(session_factory, alice)
    answer = client.get(f"/login/once?token={secret}", follow_redirects=False)
    assert answer.status_code == 303 and answer.headers["location"] == "/"
    assert "alice" in _nav(client)
    client.cookies.clear()
    again = client.get(f"/login/once?token={secret}", follow_redirects=False)
    assert again.status_code == 401
    assert "This login link was already used" in again.text
    assert "alice" not in _nav(client)


def test_an_unknown_or_expired_link_signs_no_one_in(
    client: TestClient, alice: Account, session_factory: SessionFactory
) -> None:
    for token in ("bal_nothing-like-it", ""):
        answer = client.get(f"/login/once?token={token}", follow_redirects=False)
        assert answer.status_code == 401 and "Invalid login link" in answer.text
    expired = _link(session_factory, alice, lifetime=timedelta(microseconds=1))
    answer = client.get(f"/login/once?token={expired}", follow_redirects=False)
    assert answer.status_code == 401 and "expired" in answer.text
    assert "Sign in" in _nav(client)
