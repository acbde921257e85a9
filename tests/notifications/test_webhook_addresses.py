"""A webhook reaches no internal address: refused when it is made, and again at each delivery
(a name that resolves to the loopback by then, as DNS rebinding would make it)."""

from __future__ import annotations

import socket
from collections.abc import Callable
from typing import Any

import pytest
from fastapi.testclient import TestClient

from botarena.notifications.workers import NotificationWorkers
from botarena.settings import Settings

from support.accounts import Account
from support.webhook_receiver import Receiver

API = "/api/v1/notifications"
NAME = "hooks.example.org"
PUBLIC = "93.184.215.14"


@pytest.fixture
def settings(settings: Settings) -> Settings:
    """Private addresses are not allowed here (the other tests list the loopback)."""
    return settings.model_copy(update={"webhook_allow_hosts": ()})


@pytest.fixture
def dns(monkeypatch: pytest.MonkeyPatch) -> dict[str, str]:
    """``NAME`` resolves to what the test says; every other name as usual."""
    answers = {NAME: PUBLIC}
    real: Callable[..., Any] = socket.getaddrinfo

    def fake(host: object, port: object, *args: Any, **kwargs: Any) -> Any:
        if host in answers:
            return [(socket.AF_INET, socket.SOCK_STREAM, 6, "", (answers[str(host)], port))]
        return real(host, port, *args, **kwargs)

    monkeypatch.setattr(socket, "getaddrinfo", fake)
    return answers


def create(client: TestClient, account: Account, url: str) -> Any:
    return client.post(f"{API}/webhooks", json={"url": url, "events": []}, headers=account.headers)


@pytest.mark.parametrize(
    "url",
    [
        "http://127.0.0.1:8080/hook",
        "http://2130706433/hook",
        "http://[::1]/hook",
        "http://169.254.169.254/latest/meta-data",
        "http://10.0.0.7/hook",
        "http://localhost/hook",
        "ftp://example.org/hook",
        "http://user:pw@example.org/hook",
        "http://example.org/hook#part",
    ],
)
def test_an_internal_or_malformed_url_is_refused_when_made(
    client: TestClient, alice: Account, url: str
) -> None:
    answer = create(client, alice, url)
    assert answer.status_code == 422, answer.text
    assert answer.json()["fields"][0]["field"] == "url"
    assert client.get(f"{API}/webhooks", headers=alice.headers).json() == []


def test_a_name_resolving_to_the_loopback_is_refused_when_made(
    client: TestClient, alice: Account, dns: dict[str, str]
) -> None:
    dns[NAME] = "127.0.0.1"
    answer = create(client, alice, f"http://{NAME}/hook")
    assert answer.status_code == 422
    assert "internal address" in answer.text


def test_a_name_rebound_to_the_loopback_is_refused_at_delivery(
    client: TestClient,
    alice: Account,
    dns: dict[str, str],
    receiver: Receiver,
    worker: NotificationWorkers,
) -> None:
    port = receiver.url.split(":")[2].split("/")[0]
    made = create(client, alice, f"http://{NAME}:{port}/hook")
    assert made.status_code == 201, made.text
    dns[NAME] = "127.0.0.1"  # the receiver listens there
    sent = client.post(f"{API}/webhooks/{made.json()['id']}/test", headers=alice.headers)

    assert worker.tick() == 3  # every attempt refused, then given up

    assert receiver.received == []
    [delivery] = client.get(f"{API}/deliveries", headers=alice.headers).json()["items"]
    assert delivery["id"] == sent.json()["id"]
    assert delivery["status"] == "failed"
    assert "internal address" in delivery["lastError"]
    assert delivery["lastStatusCode"] is None
