"""The notifications API: one's own webhooks only, the secret shown once and kept sealed
(never in the database in the clear, in a later answer or in the log), rotation, e-mail
preferences."""

from __future__ import annotations

import time
from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy import select

from botarena.db.engine import SessionFactory
from botarena.logging import redact
from botarena.models import metadata
from botarena.notifications.kinds import SUBSCRIBABLE
from botarena.notifications.schemas import WebhookRequest
from botarena.notifications.signing import verify
from botarena.notifications.workers import NotificationWorkers

from support.accounts import Account
from support.logs import captured_log
from support.webhook_receiver import Receiver

API = "/api/v1/notifications"


def create(client: TestClient, account: Account, url: str, events: list[str]) -> Any:
    return client.post(
        f"{API}/webhooks", json={"url": url, "events": events}, headers=account.headers
    )


def everything_stored(factory: SessionFactory) -> str:
    """Every value of every table, as text."""
    with factory() as session:
        return repr([session.execute(select(table)).all() for table in metadata.sorted_tables])


def test_the_secret_is_shown_once_and_never_stored_or_logged_in_the_clear(
    client: TestClient,
    alice: Account,
    receiver: Receiver,
    session_factory: SessionFactory,
    worker: NotificationWorkers,
) -> None:
    with captured_log() as log:
        made = create(client, alice, receiver.url, ["build.finished"])
        assert made.status_code == 201
        secret = made.json()["secret"]
        webhook_id = made.json()["id"]
        answers = [
            client.get(f"{API}/webhooks", headers=alice.headers),
            client.patch(
                f"{API}/webhooks/{webhook_id}",
                json={"description": "renamed"},
                headers=alice.headers,
            ),
            client.post(f"{API}/webhooks/{webhook_id}/test", headers=alice.headers),
        ]
        worker.tick()
        answers.append(client.get(f"{API}/deliveries", headers=alice.headers))
        rotated = client.post(f"{API}/webhooks/{webhook_id}/rotate-secret", headers=alice.headers)
        client.post(f"{API}/webhooks/{webhook_id}/test", headers=alice.headers)
        worker.tick()
    new_secret = rotated.json()["secret"]
    assert new_secret != secret
    for answer in answers:
        assert answer.status_code < 300, answer.text
        assert secret not in answer.text
    stored = everything_stored(session_factory)
    assert webhook_id in stored
    assert secret not in stored and new_secret not in stored
    assert secret not in log.getvalue() and new_secret not in log.getvalue()
    assert "notification attempt" in log.getvalue()
    # Before the rotation, signed with the first secret; after it, with the new one only.
    first, second = receiver.received
    now = int(time.time())
    assert verify(secret, first.headers["X-Botarena-Signature"], first.body, now)
    assert verify(new_secret, second.headers["X-Botarena-Signature"], second.body, now)
    assert not verify(secret, second.headers["X-Botarena-Signature"], second.body, now)


def test_a_secret_that_reaches_a_log_line_is_redacted() -> None:
    assert (
        redact("sealed whsec_abcdefgh12345678 by mistake") == "sealed whsec_[redacted] by mistake"
    )


def test_nobody_else_sees_or_touches_ones_webhooks_and_deliveries(
    client: TestClient,
    alice: Account,
    bob: Account,
    admin: Account,
    receiver: Receiver,
    worker: NotificationWorkers,
) -> None:
    made = create(client, alice, receiver.url, ["build.finished"]).json()
    client.post(f"{API}/webhooks/{made['id']}/test", headers=alice.headers)
    worker.tick()
    assert client.get(f"{API}/deliveries", headers=alice.headers).json()["total"] == 1

    for other in (bob, admin):
        assert client.get(f"{API}/webhooks", headers=other.headers).json() == []
        assert client.get(f"{API}/deliveries", headers=other.headers).json()["total"] == 0
        path = f"{API}/webhooks/{made['id']}"
        named = client.get(f"{API}/deliveries?webhookId={made['id']}", headers=other.headers)
        assert named.json()["total"] == 0
        refused = [
            client.patch(path, json={"enabled": False}, headers=other.headers),
            client.post(f"{path}/test", headers=other.headers),
            client.post(f"{path}/rotate-secret", headers=other.headers),
            client.delete(path, headers=other.headers),
        ]
        assert [answer.status_code for answer in refused] == [404] * 4
    assert client.get(f"{API}/deliveries").status_code == 401
    assert client.get(f"{API}/webhooks", headers=alice.headers).json()[0]["enabled"] is True


def test_events_are_checked_and_a_webhook_can_be_deleted(
    client: TestClient, alice: Account, receiver: Receiver
) -> None:
    unknown = create(client, alice, receiver.url, ["build.finished", "everything"])
    assert unknown.status_code == 422
    assert "build.finished" in unknown.text  # the known ones named
    made = create(client, alice, receiver.url, ["tournament.finished", "build.finished"]).json()
    assert made["events"] == ["build.finished", "tournament.finished"]
    assert client.delete(f"{API}/webhooks/{made['id']}", headers=alice.headers).status_code == 204
    assert client.get(f"{API}/webhooks", headers=alice.headers).json() == []


def test_the_api_names_exactly_the_subscribable_events() -> None:
    schema = WebhookRequest.model_json_schema(by_alias=True)
    named = schema["properties"]["events"]["items"]["enum"]
    assert named == [kind.value for kind in SUBSCRIBABLE]


def test_the_email_preference_is_kept(client: TestClient, alice: Account) -> None:
    empty = client.get(f"{API}/email", headers=alice.headers).json()
    assert empty == {"address": None, "events": [], "available": False}
    bad = client.put(
        f"{API}/email", json={"address": "not-an-address", "events": []}, headers=alice.headers
    )
    assert bad.status_code == 422
    put = client.put(
        f"{API}/email",
        json={"address": "alice@example.org", "events": ["challenge.received"]},
        headers=alice.headers,
    )
    assert put.status_code == 200, put.text
    assert client.get(f"{API}/email", headers=alice.headers).json()["address"] == (
        "alice@example.org"
    )
    off = client.put(f"{API}/email", json={"address": None}, headers=alice.headers)
    assert off.json()["address"] is None
