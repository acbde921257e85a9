"""Sign-in limits through the real app: ten failures per username or per client address in
the window, then 429 with Retry-After, even for the right password; successes never count."""

from __future__ import annotations

import time

from fastapi.testclient import TestClient
from httpx import Response
from sqlalchemy import func, select

from botarena.accounts.models import ApiToken
from botarena.app import create_app
from botarena.audit.models import AuditEntry
from botarena.db.engine import SessionFactory
from botarena.settings import Settings

from support.accounts import Account

RIGHT = "alice-password"


def _from(client: TestClient, address: str) -> TestClient:
    """The same running app, seen from another client address (no second start-up)."""
    return TestClient(client.app, client=(address, 50000))


def _sign_in(client: TestClient, username: str, password: str) -> Response:
    return client.post("/api/v1/auth/tokens", json={"username": username, "password": password})


def _count(factory: SessionFactory, model: type[ApiToken] | type[AuditEntry]) -> int:
    with factory() as session:
        return int(session.scalar(select(func.count()).select_from(model)) or 0)


def _assert_locked(answer: Response, window: int = 900) -> None:
    assert answer.status_code == 429, answer.text
    assert answer.json()["error"] == "Too many failed sign-ins"
    assert "locked after 10 failures in 15 minutes" in answer.json()["message"]
    assert 0 < int(answer.headers["retry-after"]) <= window
    assert "token" not in answer.json()


def test_a_username_is_locked_after_ten_failures_even_from_other_addresses(
    client: TestClient, alice: Account, session_factory: SessionFactory
) -> None:
    tokens_before = _count(session_factory, ApiToken)
    # Each guess from a new address: only the username's count can lock.
    for guess in range(10):
        wrong = _sign_in(_from(client, f"198.51.100.{guess + 1}"), "alice", f"guess-{guess}")
        assert wrong.status_code == 401, guess
    # The right password, from an address never seen before, and in another case.
    _assert_locked(_sign_in(_from(client, "203.0.113.77"), "ALICE", RIGHT))
    _assert_locked(_sign_in(client, "alice", RIGHT))
    # Nothing was issued, nor recorded, for the failures and the refusals.
    assert _count(session_factory, ApiToken) == tokens_before
    assert _count(session_factory, AuditEntry) == 0
    # Another user is not affected.
    assert client.get("/api/v1/me", headers=alice.headers).status_code == 200


def test_an_address_is_locked_after_ten_failures_across_usernames(
    client: TestClient, alice: Account
) -> None:
    guesser = _from(client, "192.0.2.10")
    for index in range(10):
        assert _sign_in(guesser, f"user{index}", "whatever-it-is").status_code == 401
    # Alice's right password from that address is refused; from another address it works.
    _assert_locked(_sign_in(guesser, "alice", RIGHT))
    assert _sign_in(_from(client, "192.0.2.11"), "alice", RIGHT).status_code == 201


def test_successes_do_not_count_and_the_eleventh_attempt_is_refused(
    client: TestClient, alice: Account
) -> None:
    for _ in range(9):
        assert _sign_in(client, "alice", "wrong-password").status_code == 401
    for _ in range(5):
        assert _sign_in(client, "alice", RIGHT).status_code == 201
    assert _sign_in(client, "alice", "wrong-password").status_code == 401  # the tenth failure
    _assert_locked(_sign_in(client, "alice", RIGHT))
    _assert_locked(_sign_in(client, "alice", "wrong-password"))


def test_the_lock_lifts_when_the_window_has_passed(settings: Settings, alice: Account) -> None:
    short = settings.model_copy(update={"login_max_failures": 3, "login_window": 2})
    with TestClient(create_app(short)) as client:
        for _ in range(3):
            assert _sign_in(client, "alice", "wrong-password").status_code == 401
        locked = _sign_in(client, "alice", RIGHT)
        assert locked.status_code == 429
        assert int(locked.headers["retry-after"]) <= 2
        assert "locked after 3 failures in 2 seconds" in locked.json()["message"]
        # Refused attempts are not failures: they do not extend the lock.
        assert _sign_in(client, "alice", "wrong-password").status_code == 429
        time.sleep(2.2)
        assert _sign_in(client, "alice", RIGHT).status_code == 201
