"""Webhooks delivered to a real receiver on the loopback: signed, retried, given up, and
switched off by 410 Gone; a delivery whose worker died is sent again."""

from __future__ import annotations

import json
import socket
import threading
import time
from datetime import timedelta

from fastapi.testclient import TestClient

from botarena.clock import utcnow
from botarena.db.engine import SessionFactory
from botarena.notifications import delivering
from botarena.notifications.models import Delivery
from botarena.notifications.signing import verify
from botarena.notifications.workers import NotificationWorkers
from botarena.settings import Settings

from support.accounts import Account
from support.webhook_receiver import Receiver

API = "/api/v1/notifications"


def make_webhook(client: TestClient, account: Account, url: str) -> dict[str, object]:
    answer = client.post(
        f"{API}/webhooks",
        json={"url": url, "events": ["build.finished"], "description": "ci"},
        headers=account.headers,
    )
    assert answer.status_code == 201, answer.text
    made: dict[str, object] = answer.json()
    return made


def send_test(client: TestClient, account: Account, webhook_id: object) -> str:
    answer = client.post(f"{API}/webhooks/{webhook_id}/test", headers=account.headers)
    assert answer.status_code == 202, answer.text
    delivery_id: str = answer.json()["id"]
    return delivery_id


def delivery(client: TestClient, account: Account, delivery_id: str) -> dict[str, object]:
    answer = client.get(f"{API}/deliveries", headers=account.headers)
    assert answer.status_code == 200, answer.text
    found = [d for d in answer.json()["items"] if d["id"] == delivery_id]
    assert len(found) == 1
    item: dict[str, object] = found[0]
    return item


def test_a_test_event_arrives_signed_with_the_secret_shown_once(
    client: TestClient, alice: Account, receiver: Receiver, worker: NotificationWorkers
) -> None:
    made = make_webhook(client, alice, receiver.url)
    secret = str(made["secret"])
    assert secret.startswith("whsec_")
    delivery_id = send_test(client, alice, made["id"])

    assert worker.tick() == 1

    [request] = receiver.received
    assert request.path == "/hook"
    assert request.headers["X-Botarena-Event"] == "ping"
    assert request.headers["X-Botarena-Delivery"] == delivery_id
    assert verify(secret, request.headers["X-Botarena-Signature"], request.body, int(time.time()))
    assert not verify("whsec_other", request.headers["X-Botarena-Signature"], request.body, 0)
    body = json.loads(request.body)
    assert body["event"] == "ping"
    assert body["data"]["endpointId"] == made["id"]
    shown = delivery(client, alice, delivery_id)
    assert shown["status"] == "delivered"
    assert shown["lastStatusCode"] == 200
    assert shown["attempts"] == 1
    # Never again: not in the list, nor in a change.
    listing = client.get(f"{API}/webhooks", headers=alice.headers)
    assert secret not in listing.text
    assert "secret" not in listing.json()[0]


def test_a_500_is_retried_then_delivered(
    client: TestClient, alice: Account, receiver: Receiver, worker: NotificationWorkers
) -> None:
    receiver.answer(500, 200)
    made = make_webhook(client, alice, receiver.url)
    delivery_id = send_test(client, alice, made["id"])

    worker.attempt_one()
    after_first = delivery(client, alice, delivery_id)
    assert after_first["status"] == "queued"
    assert after_first["lastStatusCode"] == 500
    assert after_first["lastError"] == "HTTP 500"
    assert after_first["responseExcerpt"] == "answered 500"

    worker.attempt_one()
    shown = delivery(client, alice, delivery_id)
    assert shown["status"] == "delivered"
    assert shown["attempts"] == 2
    assert len(receiver.received) == 2
    # The same delivery id both times: the receiver can tell a retry from a new event.
    ids = {r.headers["X-Botarena-Delivery"] for r in receiver.received}
    assert ids == {delivery_id}


def test_given_up_after_the_last_attempt(
    client: TestClient, alice: Account, receiver: Receiver, worker: NotificationWorkers
) -> None:
    receiver.answer(503)
    made = make_webhook(client, alice, receiver.url)
    delivery_id = send_test(client, alice, made["id"])

    assert worker.tick() == 3  # notify_max_attempts

    shown = delivery(client, alice, delivery_id)
    assert shown["status"] == "failed"
    assert shown["attempts"] == 3
    assert len(receiver.received) == 3
    assert worker.tick() == 0


def test_a_redirect_is_not_followed(
    client: TestClient, alice: Account, receiver: Receiver, worker: NotificationWorkers
) -> None:
    receiver.answer(302)
    made = make_webhook(client, alice, receiver.url)
    delivery_id = send_test(client, alice, made["id"])
    worker.attempt_one()
    shown = delivery(client, alice, delivery_id)
    assert shown["status"] == "queued"
    assert shown["lastStatusCode"] == 302
    assert len(receiver.received) == 1


def test_410_gone_switches_the_webhook_off(
    client: TestClient, alice: Account, receiver: Receiver, worker: NotificationWorkers
) -> None:
    receiver.answer(410)
    made = make_webhook(client, alice, receiver.url)
    delivery_id = send_test(client, alice, made["id"])

    assert worker.tick() == 1

    assert delivery(client, alice, delivery_id)["status"] == "failed"
    [webhook] = client.get(f"{API}/webhooks", headers=alice.headers).json()
    assert webhook["enabled"] is False
    assert "410" in webhook["disabledReason"]
    refused = client.post(f"{API}/webhooks/{made['id']}/test", headers=alice.headers)
    assert refused.status_code == 400
    again = client.patch(
        f"{API}/webhooks/{made['id']}", json={"enabled": True}, headers=alice.headers
    )
    assert again.json()["enabled"] is True
    assert again.json()["disabledReason"] is None


def test_a_delivery_whose_worker_died_is_sent_again(
    client: TestClient,
    alice: Account,
    receiver: Receiver,
    session_factory: SessionFactory,
    settings: Settings,
    worker: NotificationWorkers,
) -> None:
    made = make_webhook(client, alice, receiver.url)
    delivery_id = send_test(client, alice, made["id"])
    # A server claims it and is killed before it sends or records anything.
    with session_factory() as session:
        claimed = delivering.claim(session, settings, "killed-server", lease=60)
        session.commit()
    assert claimed is not None and claimed.id == delivery_id
    assert worker.tick() == 0  # held under the dead server's lease

    with session_factory() as session:
        assert delivering.reap(session, settings, now=utcnow() + timedelta(seconds=61)) == 1
        session.commit()
    assert worker.tick() == 1

    assert len(receiver.received) == 1
    shown = delivery(client, alice, delivery_id)
    assert shown["status"] == "delivered"
    assert shown["attempts"] == 2
    # The dead server, back, can write nothing over it.
    with session_factory() as session:
        late = delivering.Outcome(False, "late")
        assert not delivering.record(session, settings, claimed, "killed-server", late)
        row = session.get(Delivery, delivery_id)
        assert row is not None and row.status == "delivered"


def test_a_receiver_trickling_its_answer_is_cut_off(
    client: TestClient,
    alice: Account,
    session_factory: SessionFactory,
    settings: Settings,
) -> None:
    """One byte every 0.2 s never trips a 0.5 s wait, but the whole exchange is bounded."""
    stop = threading.Event()
    listener = socket.create_server(("127.0.0.1", 0))

    def trickle() -> None:
        connection, _ = listener.accept()
        with connection:
            while not stop.wait(0.2):
                try:
                    connection.sendall(b"H")
                except OSError:
                    return

    thread = threading.Thread(target=trickle, daemon=True)
    thread.start()
    url = f"http://127.0.0.1:{listener.getsockname()[1]}/hook"
    made = make_webhook(client, alice, url)
    delivery_id = send_test(client, alice, made["id"])
    impatient = settings.model_copy(update={"webhook_timeout": 0.5})
    try:
        started = time.monotonic()
        NotificationWorkers(session_factory, impatient, name="w").attempt_one()
        took = time.monotonic() - started
    finally:
        stop.set()
        listener.close()
        thread.join(5)
    assert took < 3
    shown = delivery(client, alice, delivery_id)
    assert shown["status"] == "queued" and shown["lastStatusCode"] is None
    assert shown["lastError"].startswith(("no answer", "bad answer"))


def test_ended_deliveries_are_removed_after_thirty_days(
    client: TestClient,
    alice: Account,
    receiver: Receiver,
    session_factory: SessionFactory,
    worker: NotificationWorkers,
) -> None:
    made = make_webhook(client, alice, receiver.url)
    send_test(client, alice, made["id"])
    worker.tick()
    waiting = send_test(client, alice, made["id"])
    with session_factory() as session:
        assert delivering.prune(session, now=utcnow() + timedelta(days=29)) == 0
        assert delivering.prune(session, now=utcnow() + timedelta(days=31)) == 1
        session.commit()
    [left] = client.get(f"{API}/deliveries", headers=alice.headers).json()["items"]
    assert left["id"] == waiting  # still queued: kept
