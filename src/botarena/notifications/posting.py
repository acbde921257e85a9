"""One webhook request: POST the body to an address that passed the checks, follow no
redirect, wait a short time, keep only the start of the answer."""

from __future__ import annotations

import contextlib
import http.client
import socket
import ssl
import threading
from dataclasses import dataclass

from botarena import __version__
from botarena.notifications.targets import Target
from botarena.sources.addresses import IPAddress

EXCERPT_CHARS = 512


@dataclass(frozen=True)
class Answer:
    """What the receiver said: its HTTP status and the start of its body."""

    status: int
    excerpt: str


def tls_context() -> ssl.SSLContext:
    """The system's trust store, certificates checked against the URL's host name."""
    return ssl.create_default_context()


class _PinnedHTTPConnection(http.client.HTTPConnection):
    """Connects to the checked address, whatever the name resolves to by now."""

    def __init__(self, address: IPAddress, target: Target, timeout: float) -> None:
        super().__init__(target.host, target.port, timeout=timeout)
        self._address = address

    def connect(self) -> None:
        self.sock = socket.create_connection((str(self._address), self.port), self.timeout)


class _PinnedHTTPSConnection(http.client.HTTPSConnection):
    """TLS to the checked address, the certificate checked against the URL's host name."""

    def __init__(self, address: IPAddress, target: Target, timeout: float) -> None:
        super().__init__(target.host, target.port, timeout=timeout, context=tls_context())
        self._address = address

    def connect(self) -> None:
        raw = socket.create_connection((str(self._address), self.port), self.timeout)
        context: ssl.SSLContext = self._context  # type: ignore[attr-defined]
        self.sock = context.wrap_socket(raw, server_hostname=self.host)


def post(
    target: Target,
    address: IPAddress,
    body: bytes,
    headers: dict[str, str],
    timeout: float,
) -> Answer:
    """POST ``body``; raises :class:`OSError` (or an ``http.client`` error) when no answer
    came. A redirect is an answer like any other: not followed.

    ``timeout`` bounds each wait, and twice it the whole exchange: a receiver that trickles
    its answer a byte at a time is cut off, not left to hold the worker for hours.
    """
    kind = _PinnedHTTPSConnection if target.scheme == "https" else _PinnedHTTPConnection
    connection = kind(address, target, timeout)
    deadline = threading.Timer(2 * timeout, _cut, args=(connection,))
    deadline.daemon = True
    deadline.start()
    try:
        connection.putrequest("POST", target.path, skip_host=True, skip_accept_encoding=True)
        connection.putheader("Host", target.host_header)
        connection.putheader("User-Agent", f"botarena-webhooks/{__version__}")
        connection.putheader("Content-Type", "application/json")
        connection.putheader("Content-Length", str(len(body)))
        for name, value in headers.items():
            connection.putheader(name, value)
        connection.endheaders(body)
        response = connection.getresponse()
        start = response.read(EXCERPT_CHARS * 4)
        return Answer(response.status, start.decode("utf-8", "replace")[:EXCERPT_CHARS])
    finally:
        deadline.cancel()
        connection.close()


def _cut(connection: http.client.HTTPConnection) -> None:
    """Wake a read blocked on ``connection`` (closing alone would not): it fails at once."""
    sock = connection.sock
    if sock is not None:
        with contextlib.suppress(OSError):
            sock.shutdown(socket.SHUT_RDWR)
