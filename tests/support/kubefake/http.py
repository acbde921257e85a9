"""The HTTP side: one request handler per connection (HTTP/1.1, keep-alive), JSON bodies,
chunked streams for watches and followed logs."""

from __future__ import annotations

import contextlib
import json
import logging
import socket
import ssl
from collections.abc import Iterable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qs, urlsplit

from .errors import ApiError, status_body

if TYPE_CHECKING:
    from .cluster import Cluster


_logger = logging.getLogger(__name__)


class StreamCutError(Exception):
    """The stream was cut on purpose (a test dropped it) or the client went away."""


class Request:
    """One request as the routes see it."""

    def __init__(self, handler: Handler, method: str) -> None:
        self.handler = handler
        self.method = method
        parts = urlsplit(handler.path)
        self.path = parts.path.rstrip("/") or "/"
        self.query = {k: v[-1] for k, v in parse_qs(parts.query).items()}
        self.content_type = handler.headers.get("Content-Type", "application/json")
        length = int(handler.headers.get("Content-Length") or 0)
        self.raw = handler.rfile.read(length) if length else b""

    def body(self) -> Any:
        if not self.raw:
            return None
        try:
            return json.loads(self.raw)
        except ValueError as error:
            raise ApiError(400, "BadRequest", f"the body is not JSON: {error}") from None

    def flag(self, name: str) -> bool:
        return self.query.get(name, "").lower() in ("true", "1")

    def integer(self, name: str) -> int | None:
        value = self.query.get(name)
        if value in (None, ""):
            return None
        try:
            return int(value)
        except ValueError:
            raise ApiError(400, "BadRequest", f"invalid {name}: {value!r}") from None

    # -- answers ---------------------------------------------------------------------------

    def send_json(self, code: int, body: Any) -> None:
        data = json.dumps(body).encode()
        self.handler.send_response(code)
        self.handler.send_header("Content-Type", "application/json")
        self.handler.send_header("Content-Length", str(len(data)))
        self.handler.end_headers()
        self.handler.wfile.write(data)

    def send_text(self, code: int, data: bytes) -> None:
        self.handler.send_response(code)
        self.handler.send_header("Content-Type", "text/plain")
        self.handler.send_header("Content-Length", str(len(data)))
        self.handler.end_headers()
        self.handler.wfile.write(data)

    def stream(self, content_type: str, chunks: Iterable[bytes]) -> None:
        """Send ``chunks`` as a chunked body; StreamCutError from them cuts the connection
        without the final chunk, as a broken connection would."""
        self.handler.send_response(200)
        self.handler.send_header("Content-Type", content_type)
        self.handler.send_header("Transfer-Encoding", "chunked")
        self.handler.end_headers()
        self.handler.wfile.flush()
        try:
            for chunk in chunks:
                if chunk:
                    self.handler.wfile.write(b"%x\r\n%s\r\n" % (len(chunk), chunk))
                    self.handler.wfile.flush()
        except StreamCutError:
            self.handler.close_connection = True
            self.handler.wfile.flush()
            with contextlib.suppress(OSError):
                self.handler.connection.shutdown(socket.SHUT_RDWR)
            return
        self.handler.wfile.write(b"0\r\n\r\n")
        self.handler.wfile.flush()


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    # Headers and body go as separate writes: without this, each answer waits for a delayed ACK.
    disable_nagle_algorithm = True
    server: Server

    def log_message(self, format: str, *args: Any) -> None:
        """Quiet: the tests read the fake's behaviour, not its access log."""

    def _handle(self, method: str) -> None:
        from .routes import route

        request = Request(self, method)
        try:
            if not self._authorized():
                raise ApiError(401, "Unauthorized", "Unauthorized")
            route(self.server.cluster, request)
        except ApiError as error:
            request.send_json(error.code, error.status())
        except (BrokenPipeError, ConnectionResetError, ssl.SSLEOFError):
            # The client went away (over TLS, mid-stream: an EOF without close_notify).
            self.close_connection = True
        except Exception as error:  # the fake's own bug: answer 500 and say what
            _logger.exception("the fake answered 500")
            request.send_json(500, status_body(500, "InternalError", repr(error)))

    def _authorized(self) -> bool:
        token = self.server.token
        return token is None or self.headers.get("Authorization") == f"Bearer {token}"

    def do_GET(self) -> None:
        self._handle("GET")

    def do_POST(self) -> None:
        self._handle("POST")

    def do_PUT(self) -> None:
        self._handle("PUT")

    def do_PATCH(self) -> None:
        self._handle("PATCH")

    def do_DELETE(self) -> None:
        self._handle("DELETE")


class Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True

    def __init__(self, cluster: Cluster, token: str | None) -> None:
        super().__init__(("127.0.0.1", 0), Handler)
        self.cluster = cluster
        self.token = token

    @property
    def address(self) -> str:
        return f"127.0.0.1:{self.server_address[1]}"
