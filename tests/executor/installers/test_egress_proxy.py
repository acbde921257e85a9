"""The egress proxy on its own: real connections through its Unix socket to real listeners.

An allowed name leads to the address its resolver gave (here the host's own outside
address, where the tests listen); every other name, IP literals off the list, the
loopback, link-local and metadata addresses (allowed by name or not) and a name rebound to
the loopback are refused with 403, and the listeners see nothing.
"""

from __future__ import annotations

import base64
import contextlib
import ipaddress
import socket
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import closing
from dataclasses import dataclass

import pytest
import structlog
import structlog.testing

from botarena.endpoints import IPAddress
from botarena.executor.installers.egress import (
    EgressPolicy,
    EgressProxy,
    Endpoint,
    ProxyLimits,
    Upstreams,
)
from botarena.executor.installers.egress import proxy as proxy_module
from botarena.executor.installers.egress.upstream import parse_proxy_url

from support.egress import Listener, host_address
from support.services import require_service

MIRROR = "mirror.test"
CRLF = b"\r\n"


class Echo:
    """A TCP server on every interface that echoes, and records the requests it answers."""

    def __init__(self) -> None:
        self.server = socket.create_server(("0.0.0.0", 0))  # noqa: S104 - a test listener
        self.port: int = self.server.getsockname()[1]
        self.accepted = 0
        threading.Thread(target=self._serve, daemon=True).start()

    def _serve(self) -> None:
        while True:
            try:
                connection, _ = self.server.accept()
            except OSError:
                return
            self.accepted += 1
            threading.Thread(target=self._echo, args=(connection,), daemon=True).start()

    def _echo(self, connection: socket.socket) -> None:
        with connection:
            while data := connection.recv(65536):
                connection.sendall(data)

    def close(self) -> None:
        self.server.close()


@pytest.fixture
def outside() -> str:
    address = host_address()
    if address is None:
        require_service("a non-loopback address on this host", "no default route")
    assert address is not None
    return address


@pytest.fixture
def echo() -> Iterator[Echo]:
    server = Echo()
    yield server
    server.close()


@pytest.fixture
def loopback() -> Iterator[Listener]:
    listener = Listener("127.0.0.1")
    yield listener
    listener.close()


@dataclass
class Running:
    """A started proxy, the lines it wrote to the build's log and the names it looked up."""

    proxy: EgressProxy
    lines: list[str]
    lookups: list[str]


Start = Callable[..., Running]


@pytest.fixture
def start() -> Iterator[Start]:
    """``start(allowed, answers=..., **proxy options)``: a running proxy whose resolver
    answers ``answers`` for every name (the system's resolver when None)."""
    proxies: list[EgressProxy] = []

    def make(
        allowed: list[Endpoint],
        answers: list[str] | None = None,
        *,
        upstreams: Upstreams | None = None,
        limits: ProxyLimits | None = None,
    ) -> Running:
        lookups: list[str] = []

        async def resolver(host: str, port: int) -> list[IPAddress]:
            lookups.append(host)
            return [ipaddress.ip_address(a) for a in answers or []]

        lines: list[str] = []
        policy = EgressPolicy(allowed, resolver) if answers is not None else EgressPolicy(allowed)
        proxy = EgressProxy(policy, upstreams=upstreams, on_output=lines.append, limits=limits)
        proxies.append(proxy.start())
        return Running(proxy, lines, lookups)

    yield make
    for proxy in proxies:
        proxy.close()


def _open(running: Running, request: str) -> tuple[socket.socket, str, bytes]:
    """Send ``request`` (lines, without the blank line); the status line and the body."""
    client = socket.socket(socket.AF_UNIX)
    client.settimeout(10)
    client.connect(str(running.proxy.socket_path))
    # A proxy over its cap answers at once and closes, maybe before the request is sent: the
    # answer is still there to read.
    with contextlib.suppress(BrokenPipeError, ConnectionResetError):
        client.sendall(request.replace("\n", "\r\n").encode() + CRLF + CRLF)
    head = b""
    while b"\r\n\r\n" not in head:
        chunk = client.recv(4096)
        if not chunk:
            break
        head += chunk
    status, _, rest = head.partition(CRLF)
    return client, status.decode(), rest.partition(CRLF + CRLF)[2]


def _connect(running: Running, authority: str) -> tuple[socket.socket, str, bytes]:
    return _open(running, f"CONNECT {authority} HTTP/1.1\nHost: {authority}")


def _refused(running: Running, authority: str) -> str:
    client, status, body = _connect(running, authority)
    client.close()
    assert status == "HTTP/1.1 403 Forbidden", status
    text = body.decode()
    assert text.startswith("egress refused by policy: "), text
    assert text.strip() in running.lines
    return text.strip()


def test_an_allowed_name_is_tunnelled_to_the_address_it_resolved_to(
    start: Start, echo: Echo, outside: str
) -> None:
    proxy = start([Endpoint(MIRROR, echo.port)], answers=[outside])
    client, status, _ = _connect(proxy, f"{MIRROR}:{echo.port}")
    with client:
        assert status == "HTTP/1.1 200 Connection established"
        client.sendall(b"through the tunnel")
        assert client.recv(100) == b"through the tunnel"
    assert echo.accepted == 1
    assert proxy.lookups == [MIRROR]
    assert f"egress: tunnel to {MIRROR}:{echo.port}" in proxy.lines


def test_a_plain_http_request_goes_on_to_the_host_alone(
    start: Start, echo: Echo, outside: str
) -> None:
    proxy = start([Endpoint(MIRROR, echo.port)], answers=[outside])
    url = f"http://{MIRROR}:{echo.port}/simple/six/?x=1"
    request = (
        f"GET {url} HTTP/1.1\nHost: {MIRROR}\nProxy-Authorization: Basic c2VjcmV0\nAccept: */*"
    )
    client = socket.socket(socket.AF_UNIX)
    client.settimeout(10)
    with client:
        client.connect(str(proxy.proxy.socket_path))
        client.sendall(request.replace("\n", "\r\n").encode() + CRLF + CRLF)
        # The echo server sends back what the proxy sent it: the request in origin form.
        received = b""
        while b"\r\n\r\n" not in received:
            received += client.recv(4096)
    lines = received.decode().split("\r\n")
    assert lines[0] == "GET /simple/six/?x=1 HTTP/1.1"
    assert f"Host: {MIRROR}" in lines and "Accept: */*" in lines
    assert "Connection: close" in lines
    assert not any(line.lower().startswith("proxy-") for line in lines)


def test_names_off_the_list_and_ip_literals_are_refused(
    start: Start, echo: Echo, outside: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    proxy = start([Endpoint(MIRROR, echo.port), Endpoint("pypi.org", 443)], answers=[outside])
    with structlog.testing.capture_logs() as logged:
        # A logger not yet used: one cached under another configuration would not capture.
        monkeypatch.setattr(proxy_module, "log", structlog.get_logger(proxy_module.__name__))
        _refused(proxy, "evil.test:443")
    assert [(e["event"], e["status"], e["log_level"]) for e in logged] == [
        ("build egress refused", 403, "warning")
    ]
    assert "evil.test:443 is not on the build's allow-list" in logged[0]["reason"]
    sentences = [
        _refused(proxy, f"evil.test:{echo.port}"),
        # An allowed name on another port is another endpoint.
        _refused(proxy, f"{MIRROR}:{echo.port + 1 if echo.port < 65535 else 1}"),
        # The address an allowed name leads to is not allowed itself.
        _refused(proxy, f"{outside}:{echo.port}"),
        _refused(proxy, f"[::ffff:{outside}]:{echo.port}"),
        _refused(proxy, "169.254.169.254:80"),
        _refused(proxy, "2130706433:443"),
    ]
    assert sentences[0] == (
        f"egress refused by policy: evil.test:{echo.port} is not on the build's allow-list"
    )
    assert all("is not on the build's allow-list" in s for s in sentences), sentences
    client, status, body = _open(proxy, "GET http://169.254.169.254/latest/meta-data/ HTTP/1.1")
    client.close()
    assert status == "HTTP/1.1 403 Forbidden"
    assert b"169.254.169.254:80 is not on the build's allow-list" in body
    assert echo.accepted == 0
    assert proxy.lookups == []
    assert proxy.proxy.refusals == 8


def test_loopback_link_local_and_metadata_are_refused_even_when_listed(
    start: Start, loopback: Listener
) -> None:
    listed = [
        Endpoint("127.0.0.1", loopback.port),
        Endpoint("::ffff:7f00:1", loopback.port),
        Endpoint("169.254.169.254", 80),
        Endpoint("fd00:ec2::254", 80),
        Endpoint("0.0.0.0", loopback.port),  # noqa: S104 - a target, never bound
    ]
    proxy = start(listed)
    assert _refused(proxy, f"127.0.0.1:{loopback.port}").endswith("is a loopback address")
    assert _refused(proxy, f"[::ffff:127.0.0.1]:{loopback.port}").endswith("a loopback address")
    assert _refused(proxy, "169.254.169.254:80").endswith("is a cloud metadata address")
    assert _refused(proxy, "[fd00:ec2::254]:80").endswith("is a cloud metadata address")
    assert _refused(proxy, f"0.0.0.0:{loopback.port}").endswith("an unspecified address")
    assert loopback.reached() == 0


def test_a_name_rebound_to_the_loopback_leads_nowhere(
    start: Start, loopback: Listener, echo: Echo, outside: str
) -> None:
    rebound = start([Endpoint(MIRROR, loopback.port)], answers=["127.0.0.1"])
    sentence = _refused(rebound, f"{MIRROR}:{loopback.port}")
    assert (
        sentence == f"egress refused by policy: {MIRROR} resolves to 127.0.0.1, a loopback address"
    )
    assert loopback.reached() == 0
    # The system's resolver: localhost, allowed by name, is the loopback all the same.
    system = start([Endpoint("localhost", loopback.port)])
    assert "a loopback address" in _refused(system, f"localhost:{loopback.port}")
    assert loopback.reached() == 0
    # Among several answers, only the reachable ones are tried.
    mixed = start([Endpoint(MIRROR, echo.port)], answers=["127.0.0.1", "169.254.1.1", outside])
    client, status, _ = _connect(mixed, f"{MIRROR}:{echo.port}")
    with client:
        assert status == "HTTP/1.1 200 Connection established"
        client.sendall(b"ping")
        assert client.recv(100) == b"ping"
    assert echo.accepted == 1
    assert mixed.lookups == [MIRROR]


def test_requests_it_does_not_understand_are_refused(start: Start) -> None:
    proxy = start([Endpoint("pypi.org", 443)])
    for request, reason in [
        ("GET /simple/ HTTP/1.1", "only CONNECT and http:// URLs"),
        ("GET https://pypi.org/simple/ HTTP/1.1", "must go through CONNECT"),
        ("CONNECT pypi.org HTTP/1.1", "names no port"),
        ("CONNECT pypi.org:99999 HTTP/1.1", "no valid port"),
        ("CONNECT bad_host!:443 HTTP/1.1", "is not a host name"),
        ("HELLO", "not an HTTP/1 request line"),
    ]:
        client, status, body = _open(proxy, request)
        client.close()
        assert status == "HTTP/1.1 400 Bad Request", (request, status)
        assert body.startswith(b"egress refused by policy: ") and reason.encode() in body, body


def test_it_chains_to_the_hosts_own_proxy(start: Start) -> None:
    upstream = socket.create_server(("127.0.0.1", 0))
    heads: list[bytes] = []

    def serve() -> None:
        connection, _ = upstream.accept()
        with connection:
            head = b""
            while b"\r\n\r\n" not in head:
                head += connection.recv(4096)
            heads.append(head)
            connection.sendall(b"HTTP/1.1 200 Connection established\r\n\r\n")
            connection.sendall(connection.recv(100))

    threading.Thread(target=serve, daemon=True).start()
    port = upstream.getsockname()[1]
    chained = Upstreams(tunnel=parse_proxy_url(f"http://user:se%40cret@127.0.0.1:{port}"))
    with closing(upstream):
        proxy = start([Endpoint("pypi.org", 443)], upstreams=chained)
        assert "se@cret" not in repr(chained)
        client, status, _ = _connect(proxy, "pypi.org:443")
        with client:
            assert status == "HTTP/1.1 200 Connection established"
            client.sendall(b"hello")
            assert client.recv(100) == b"hello"
        # Off the list: refused here, the upstream proxy never asked.
        _refused(proxy, "evil.test:443")
    credentials = base64.b64encode(b"user:se@cret").decode()
    assert heads == [
        b"CONNECT pypi.org:443 HTTP/1.1\r\nHost: pypi.org:443\r\n"
        + f"Proxy-Authorization: Basic {credentials}\r\n\r\n".encode()
    ]


def test_connections_are_capped_idle_ones_closed_and_all_ended_by_close(
    start: Start, echo: Echo, outside: str
) -> None:
    limits = ProxyLimits(max_connections=2, idle_timeout=1.0)
    proxy = start([Endpoint(MIRROR, echo.port)], answers=[outside], limits=limits)
    first, status, _ = _connect(proxy, f"{MIRROR}:{echo.port}")
    second, _, _ = _connect(proxy, f"{MIRROR}:{echo.port}")
    third, over, body = _connect(proxy, f"{MIRROR}:{echo.port}")
    third.close()
    assert status.endswith(" 200 Connection established")
    assert over == "HTTP/1.1 503 Service Unavailable"
    assert b"over 2 connections at once" in body
    # Idle past the timeout: the proxy ends the relay.
    started = time.monotonic()
    assert first.recv(100) == b""
    print(f"an idle tunnel ended after {time.monotonic() - started:.2f} s")
    proxy.proxy.close()
    assert second.recv(100) == b""
    assert not proxy.proxy.folder.exists()


def test_refusals_past_the_cap_do_not_flood_the_build_log(start: Start) -> None:
    proxy = start([])
    for number in range(230):
        client, status, _ = _connect(proxy, f"host-{number}.test:443")
        client.close()
        assert status == "HTTP/1.1 403 Forbidden"
    lines = proxy.lines
    assert len(lines) == 200
    assert lines[-1] == "egress: further connections and refusals are not shown"
    assert proxy.proxy.refusals == 230
