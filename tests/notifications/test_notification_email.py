"""E-mail through a real SMTP server in process: the user's preference, a login from the URL's
credentials (never logged), a plain-text message linking to the page concerned."""

from __future__ import annotations

import ssl
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from pydantic import SecretStr

from botarena.agents.models import Submission
from botarena.agents.status import SubmissionStatus
from botarena.db.engine import SessionFactory
from botarena.notifications import mail
from botarena.notifications.mail import smtp_server as configured_server
from botarena.notifications.workers import NotificationWorkers
from botarena.settings import Settings

from support.accounts import Account
from support.competitors import pretend_built
from support.kubefake.tls import make_server_certificate
from support.logs import captured_log
from support.smtp import Inbox, smtp_server

API = "/api/v1/notifications"
PASSWORD = "p@ss word"
# The test server takes a login in the clear, on the loopback.
pytestmark = pytest.mark.filterwarnings("ignore:Requiring AUTH while not requiring TLS")


@pytest.fixture
def inbox() -> Iterator[Inbox]:
    with smtp_server("mailer", PASSWORD) as running:
        yield running


@pytest.fixture
def settings(settings: Settings, inbox: Inbox) -> Settings:
    url = f"smtp://mailer:p%40ss%20word@127.0.0.1:{inbox.port}"
    return settings.model_copy(
        update={
            "smtp_url": SecretStr(url),
            "smtp_from": "arena@example.org",
            "public_url": "https://arena.example.org",
        }
    )


def test_a_failed_submission_is_e_mailed_with_a_link(
    client: TestClient,
    alice: Account,
    bob: Account,
    inbox: Inbox,
    session_factory: SessionFactory,
    worker: NotificationWorkers,
) -> None:
    preference = client.put(
        f"{API}/email",
        json={"address": "alice@example.org", "events": ["submission.failed"]},
        headers=alice.headers,
    )
    assert preference.json()["available"] is True
    _, sub = pretend_built(client, session_factory, alice, "crashy")
    pretend_built(client, session_factory, bob, "bobs")  # bob wants no e-mail
    with session_factory() as session:
        row = session.get(Submission, sub)
        assert row is not None
        row.move_to(SubmissionStatus.FAILED, reason="failed: it crashed 5 times")
        session.commit()

    with captured_log() as log:
        assert worker.tick() == 1

    [mail] = inbox.messages
    assert inbox.logins == ["mailer"]
    assert mail["To"] == "alice@example.org"
    assert mail["From"] == "arena@example.org"
    assert "crashy v1 failed at run time" in mail["Subject"]
    text = mail.get_content()
    assert f"https://arena.example.org/submissions/{sub}" in text
    assert "failed: it crashed 5 times" in text
    assert PASSWORD not in log.getvalue() and "p%40ss" not in log.getvalue()
    [delivery] = client.get(f"{API}/deliveries", headers=alice.headers).json()["items"]
    assert delivery["channel"] == "email" and delivery["status"] == "delivered"


def test_a_refused_login_is_retried_and_the_password_is_never_shown(
    client: TestClient,
    alice: Account,
    inbox: Inbox,
    settings: Settings,
    session_factory: SessionFactory,
) -> None:
    wrong = settings.model_copy(
        update={"smtp_url": SecretStr(f"smtp://mailer:wrong-secret@127.0.0.1:{inbox.port}")}
    )
    client.put(
        f"{API}/email",
        json={"address": "alice@example.org", "events": ["submission.failed"]},
        headers=alice.headers,
    )
    _, sub = pretend_built(client, session_factory, alice, "crashy")
    with session_factory() as session:
        row = session.get(Submission, sub)
        assert row is not None
        row.move_to(SubmissionStatus.FAILED, reason="crashed")
        session.commit()

    NotificationWorkers(session_factory, wrong, name="w").attempt_one()

    assert inbox.messages == []
    [delivery] = client.get(f"{API}/deliveries", headers=alice.headers).json()["items"]
    assert delivery["status"] == "queued" and "SMTP" in delivery["lastError"]
    assert "wrong-secret" not in delivery["lastError"]
    assert "wrong-secret" not in repr(configured_server(wrong))
    assert "wrong-secret" not in repr(wrong)


@pytest.mark.parametrize("mode", ["starttls", "smtps"])
def test_e_mail_over_tls(
    client: TestClient,
    alice: Account,
    settings: Settings,
    session_factory: SessionFactory,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    mode: str,
) -> None:
    """STARTTLS (required by the server before the login) and TLS from the first byte, the
    server's certificate checked against the URL's host."""
    certificate = make_server_certificate()
    server_side = certificate.context(tmp_path)
    (tmp_path / "ca.pem").write_bytes(certificate.ca_pem)
    trusted = ssl.create_default_context(cafile=str(tmp_path / "ca.pem"))
    monkeypatch.setattr(mail, "tls_context", lambda: trusted)
    tls = {"starttls": server_side} if mode == "starttls" else {"implicit": server_side}
    with smtp_server("mailer", PASSWORD, **tls) as secure:
        scheme, query = ("smtp", "?starttls=true") if mode == "starttls" else ("smtps", "")
        url = f"{scheme}://mailer:p%40ss%20word@127.0.0.1:{secure.port}{query}"
        over_tls = settings.model_copy(update={"smtp_url": SecretStr(url)})
        client.put(
            f"{API}/email",
            json={"address": "alice@example.org", "events": ["submission.failed"]},
            headers=alice.headers,
        )
        _, sub = pretend_built(client, session_factory, alice, "crashy")
        with session_factory() as session:
            row = session.get(Submission, sub)
            assert row is not None
            row.move_to(SubmissionStatus.FAILED, reason="crashed")
            session.commit()
        NotificationWorkers(session_factory, over_tls, name="w").attempt_one()
    [delivery] = client.get(f"{API}/deliveries", headers=alice.headers).json()["items"]
    assert delivery["status"] == "delivered", delivery["lastError"]
    assert secure.logins == ["mailer"]
    [message] = secure.messages
    assert message["To"] == "alice@example.org"


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("smtp://mail.example.org", ("mail.example.org", 25, False, False, None)),
        (
            "smtp://u:p@mail.example.org:587?starttls=true",
            ("mail.example.org", 587, False, True, "u"),
        ),
        ("smtps://mail.example.org", ("mail.example.org", 465, True, False, None)),
    ],
)
def test_the_smtp_url_says_how_to_connect(
    settings: Settings, url: str, expected: tuple[object, ...]
) -> None:
    server = configured_server(settings.model_copy(update={"smtp_url": SecretStr(url)}))
    assert server is not None
    assert (server.host, server.port, server.tls, server.starttls, server.username) == expected
