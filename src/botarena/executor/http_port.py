"""The executor's HTTP port: ``/metrics`` (Prometheus), ``/readyz`` (200 or 503 naming each
failing check) and ``/healthz`` (alive). Plain HTTP, apart from the mutual-TLS gRPC port: it
tells how the executor is doing and takes no orders, so an orchestrator's probes and a
Prometheus server reach it without a certificate."""

from __future__ import annotations

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from botarena.executor.health import ExecutorHealth
from botarena.metrics.exposition import CONTENT_TYPE, render


class HttpPort:
    """A started HTTP server on ``listen`` (``host:port``, port 0 picks one) until closed."""

    def __init__(self, listen: str, health: ExecutorHealth) -> None:
        host, _, port = listen.rpartition(":")
        if not host or not port.isdigit():
            raise OSError(f"{listen!r} is not host:port")
        handler = type("Handler", (_Handler,), {"health": health})
        self._server = ThreadingHTTPServer((host.strip("[]"), int(port)), handler)
        self._server.daemon_threads = True
        self.port = int(self._server.server_address[1])
        self._thread = threading.Thread(
            target=self._server.serve_forever, name="executor-http", daemon=True
        )
        self._thread.start()

    def close(self) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(5)


class _Handler(BaseHTTPRequestHandler):
    health: ExecutorHealth

    def do_GET(self) -> None:
        path = self.path.split("?", 1)[0]
        if path == "/metrics":
            self._answer(200, render(), CONTENT_TYPE)
        elif path == "/readyz":
            checks = self.health.checks()
            failing = [c.name for c in checks if not c.ok]
            body = {
                "status": "unavailable" if failing else "ready",
                "failing": failing,
                "checks": {c.name: {"ok": c.ok, "detail": c.detail} for c in checks},
            }
            self._answer(503 if failing else 200, json.dumps(body).encode(), "application/json")
        elif path == "/healthz":
            self._answer(200, b'{"status": "ok"}', "application/json")
        else:
            self._answer(404, b'{"detail": "not found"}', "application/json")

    def _answer(self, status: int, body: bytes, content_type: str) -> None:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: object) -> None:
        """Probes and scrapes every few seconds: not worth a log line each."""
