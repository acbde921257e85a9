"""An https webhook: TLS to the address that was checked, the certificate checked against the
URL's host name (a certificate for another name is refused, whatever address answers)."""

from __future__ import annotations

import socket
import ssl
import threading
import time
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from botarena.notifications import posting
from botarena.notifications.signing import verify
from botarena.notifications.workers import NotificationWorkers
from botarena.settings import Settings

from support.accounts import Account
from support.kubefake.tls import make_server_certificate

API = "/api/v1/notifications"
OTHER_NAME = "hooks.example.org"


@pytest.fixture
def settings(settings: Settings) -> Settings:
    return settings.model_copy(update={"webhook_allow_hosts": ("127.0.0.1", OTHER_NAME)})


@pytest.fixture
def tls_receiver(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> Iterator[tuple[int, list[Any]]]:
    """An HTTPS server on 127.0.0.1 (its certificate names 127.0.0.1 and localhost), its
    authority the only one the webhooks trust; and what it received."""
    certificate = make_server_certificate()
    received: list[Any] = []

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers["Content-Length"]))
            received.append((dict(self.headers.items()), body))
            self.send_response(204)
            self.end_headers()

        def log_message(self, format: str, *args: object) -> None:
            """Quiet."""

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.socket = certificate.context(tmp_path).wrap_socket(server.socket, server_side=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    (tmp_path / "ca.pem").write_bytes(certificate.ca_pem)
    trusted: Callable[[], ssl.SSLContext] = lambda: ssl.create_default_context(  # noqa: E731
        cafile=str(tmp_path / "ca.pem")
    )
    monkeypatch.setattr(posting, "tls_context", trusted)
    try:
        yield server.server_address[1], received
    finally:
        server.shutdown()
        server.server_close()


def _send(client: TestClient, account: Account, url: str) -> tuple[str, str]:
    made = client.post(f"{API}/webhooks", json={"url": url, "events": []}, headers=account.headers)
    assert made.status_code == 201, made.text
    client.post(f"{API}/webhooks/{made.json()['id']}/test", headers=account.headers)
    return made.json()["id"], made.json()["secret"]


def _last(client: TestClient, account: Account) -> dict[str, Any]:
    item: dict[str, Any] = client.get(f"{API}/deliveries", headers=account.headers).json()["items"][
        0
    ]
    return item


def test_https_is_delivered_to_a_certificate_naming_the_host(
    client: TestClient,
    alice: Account,
    tls_receiver: tuple[int, list[Any]],
    worker: NotificationWorkers,
) -> None:
    port, received = tls_receiver
    _, secret = _send(client, alice, f"https://127.0.0.1:{port}/hook")
    assert worker.tick() == 1
    [(headers, body)] = received
    assert verify(secret, headers["X-Botarena-Signature"], body, int(time.time()))
    assert _last(client, alice)["status"] == "delivered"


def test_a_certificate_for_another_name_is_refused(
    client: TestClient,
    alice: Account,
    tls_receiver: tuple[int, list[Any]],
    worker: NotificationWorkers,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    port, received = tls_receiver
    real = socket.getaddrinfo

    def resolve(host: object, *args: Any, **kwargs: Any) -> Any:
        if host == OTHER_NAME:
            return [(socket.AF_INET, socket.SOCK_STREAM, 6, "", ("127.0.0.1", port))]
        return real(host, *args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(socket, "getaddrinfo", resolve)
    _send(client, alice, f"https://{OTHER_NAME}:{port}/hook")
    worker.attempt_one()
    assert received == []
    shown = _last(client, alice)
    assert shown["status"] == "queued"
    assert "CERTIFICATE_VERIFY_FAILED" in shown["lastError"] or "SSL" in shown["lastError"]
