"""One-time login links on both databases: a link signs its user in once, never after its
lifetime, never with a wrong secret, and the database holds only the secret's digest."""

from __future__ import annotations

import hashlib
import threading
from datetime import timedelta

import pytest
from sqlalchemy import func, select, text

from botarena.accounts.login_links import LOGIN_LINK_LIFETIME, LoginLinkService
from botarena.accounts.models import LoginLink, User
from botarena.accounts.service import AccountService
from botarena.audit.actions import Action
from botarena.audit.context import ActionContext
from botarena.audit.journal import AuditJournal
from botarena.audit.models import AuditEntry
from botarena.clock import utcnow
from botarena.db.engine import SessionFactory
from botarena.errors import AppError
from botarena.logging import redact

from support.accounts import Account, MakeUser


def _issue(factory: SessionFactory, user_id: str, **terms: timedelta) -> str:
    with factory() as session:
        user = session.get(User, user_id)
        assert user is not None
        journal = AuditJournal(ActionContext.system("system/test"))
        return LoginLinkService(session, journal=journal).issue(user, **terms).secret


def _redeem(factory: SessionFactory, secret: str) -> User:
    with factory() as session:
        journal = AuditJournal(ActionContext.system("system/test"))
        user = LoginLinkService(session, journal=journal).redeem(secret)
        session.expunge(user)
        return user


def _refused(factory: SessionFactory, secret: str) -> AppError:
    with pytest.raises(AppError) as caught:
        _redeem(factory, secret)
    assert caught.value.status_code == 401
    return caught.value


def _links(factory: SessionFactory) -> list[LoginLink]:
    with factory() as session:
        rows = list(session.scalars(select(LoginLink)))
        session.expunge_all()
        return rows


def _move_clock(monkeypatch: pytest.MonkeyPatch, by: timedelta) -> None:
    later = utcnow() + by
    monkeypatch.setattr("botarena.accounts.login_links.utcnow", lambda: later)


def test_a_link_signs_its_user_in_once(session_factory: SessionFactory, alice: Account) -> None:
    secret = _issue(session_factory, alice.id)
    assert secret.startswith("bal_") and len(secret) > 40
    assert _redeem(session_factory, secret).id == alice.id
    again = _refused(session_factory, secret)
    assert again.error == "This login link was already used"
    assert "ask for a new one" in str(again.message)
    [link] = _links(session_factory)
    assert link.used_at is not None
    with session_factory() as session:
        actions = list(session.scalars(select(AuditEntry.action).order_by(AuditEntry.id)))
    # The sign-in is recorded, and so is the second, refused try.
    assert actions[-4:] == [
        Action.LOGIN_LINK_CREATED.value,
        Action.LOGIN_LINK_USED.value,
        Action.USER_SIGNED_IN.value,
        Action.USER_SIGN_IN_FAILED.value,
    ]


def test_a_link_expires_after_its_lifetime(
    session_factory: SessionFactory, alice: Account, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert timedelta(minutes=5) <= LOGIN_LINK_LIFETIME <= timedelta(minutes=15)
    secret = _issue(session_factory, alice.id)
    [link] = _links(session_factory)
    assert link.expires_at - link.created_at == LOGIN_LINK_LIFETIME
    _move_clock(monkeypatch, LOGIN_LINK_LIFETIME + timedelta(seconds=1))
    late = _refused(session_factory, secret)
    assert late.error.startswith("This login link expired at ")
    # Refused without being spent.
    assert _links(session_factory)[0].used_at is None
    short = _issue(session_factory, alice.id, lifetime=timedelta(minutes=1))
    monkeypatch.undo()
    _move_clock(monkeypatch, timedelta(seconds=30))
    assert _redeem(session_factory, short).id == alice.id


def test_a_wrong_secret_signs_nobody_in_and_changes_nothing(
    session_factory: SessionFactory, alice: Account
) -> None:
    secret = _issue(session_factory, alice.id)
    for wrong in ("", "bal_", secret[:-1], secret + "x", alice.token, secret.upper()):
        assert _refused(session_factory, wrong).error == "Invalid login link"
    assert _links(session_factory)[0].used_at is None
    # An API token is no login link, and a login link is no API token.
    with session_factory() as session, pytest.raises(AppError):
        AccountService(session).authenticate(secret)
    assert _redeem(session_factory, secret).id == alice.id


def test_only_the_digest_is_stored(session_factory: SessionFactory, alice: Account) -> None:
    secret = _issue(session_factory, alice.id)
    with session_factory() as session:
        rows = session.execute(text("SELECT * FROM login_links")).all()
        audit = session.execute(text("SELECT details FROM audit_log")).all()
    assert len(rows) == 1
    stored = [str(value) for value in rows[0]]
    assert hashlib.sha256(secret.encode()).hexdigest() in stored
    assert not any(secret in value or secret[4:] in value for value in stored)
    assert not any(secret[4:] in str(row) for row in audit)
    # A printed link never reaches a log line either.
    assert secret[4:] not in redact(f"open http://127.0.0.1:8000/login/once?token={secret}")
    assert secret[4:] not in redact(f"the link {secret} was printed")


def test_each_link_is_its_own_and_a_disabled_user_gets_none(
    session_factory: SessionFactory, alice: Account, make_user: MakeUser
) -> None:
    bob = make_user("bob")
    first, second = _issue(session_factory, alice.id), _issue(session_factory, bob.id)
    assert first != second
    assert _redeem(session_factory, second).id == bob.id
    with session_factory() as session:
        AccountService(session).set_disabled("alice", True)
    assert _refused(session_factory, first).error == "Account disabled"
    with pytest.raises(AppError) as caught:
        _issue(session_factory, alice.id)
    assert caught.value.status_code == 422
    for lifetime in (timedelta(0), timedelta(days=2)):
        with pytest.raises(AppError):
            _issue(session_factory, bob.id, lifetime=lifetime)
    with session_factory() as session:
        assert session.scalar(select(func.count()).select_from(LoginLink)) == 2


def test_racing_redemptions_let_exactly_one_in(
    session_factory: SessionFactory, alice: Account
) -> None:
    for _ in range(3):
        secret = _issue(session_factory, alice.id)
        outcomes = _race(session_factory, secret, 4)
        assert outcomes.count(alice.id) == 1
        assert sorted(outcomes) == sorted([alice.id] + ["This login link was already used"] * 3)


def _race(factory: SessionFactory, secret: str, racers: int) -> list[str]:
    """Each racer's outcome: the user id it signed in, or the error it got."""
    start = threading.Barrier(racers)
    outcomes: list[str] = []

    def redeem() -> None:
        start.wait()
        try:
            outcomes.append(_redeem(factory, secret).id)
        except AppError as exc:
            outcomes.append(exc.error)

    threads = [threading.Thread(target=redeem) for _ in range(racers)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    assert len(outcomes) == racers
    return outcomes
