"""A hostile build that tries to leave the install sandbox's network, and listeners on the
host that record whether anything reached them.

The build is a local package (``./canary`` in ``requirements.txt``) whose ``setup.py``, run by
pip inside the sandbox, connects directly to each target, then asks the egress proxy (through
the relay pip is pointed at, and through the proxy's socket itself) for a tunnel or a plain
request to each, prints one ``PROBE`` line per attempt and fails, so that pip shows its output.
"""

from __future__ import annotations

import contextlib
import json
import socket
from collections.abc import Iterator
from dataclasses import dataclass

PROBE_SETUP_PY = """\
import json
import os
import socket
import sys
import urllib.error
import urllib.request

DIRECT = json.loads({direct!r})
TUNNELS = json.loads({tunnels!r})
URLS = json.loads({urls!r})
SOCKET = {socket!r}
# Not written as an escape: setuptools turns every backslash-r-backslash-n in a setup.py
# into a bare newline before running it.
CRLF = bytes([13, 10])


def direct(host, port):
    try:
        with socket.create_connection((host, port), timeout=5):
            return "CONNECTED"
    except OSError as exc:
        return f"failed ({{type(exc).__name__}}: {{exc}})"


def tunnel(authority, via):
    try:
        if isinstance(via, str):
            client = socket.socket(socket.AF_UNIX)
            client.settimeout(30)
            client.connect(via)
        else:
            client = socket.create_connection(via, timeout=30)
        with client:
            request = f"CONNECT {{authority}} HTTP/1.1", f"Host: {{authority}}", "", ""
            client.sendall(CRLF.join(line.encode() for line in request))
            answer = b""
            while CRLF not in answer:
                chunk = client.recv(4096)
                if not chunk:
                    break
                answer += chunk
            return answer.split(CRLF)[0].decode(errors="replace") or "no answer"
    except OSError as exc:
        return f"failed ({{type(exc).__name__}}: {{exc}})"


def fetch(url):
    try:
        with urllib.request.urlopen(url, timeout=30) as answer:
            return f"HTTP {{answer.status}}"
    except urllib.error.HTTPError as exc:
        return f"HTTP {{exc.code}}"
    except OSError as exc:
        return f"failed ({{type(exc).__name__}}: {{exc}})"


relay = os.environ.get("HTTPS_PROXY", "").removeprefix("http://").rstrip("/")
print("PROXY", relay or "none", flush=True)
relay_address = (relay.rpartition(":")[0], int(relay.rpartition(":")[2])) if relay else None
for host, port in DIRECT:
    print(f"PROBE direct {{host}}:{{port}}: {{direct(host, port)}}", flush=True)
for authority in TUNNELS:
    print(f"PROBE tunnel {{authority}}: {{tunnel(authority, relay_address)}}", flush=True)
    print(f"PROBE socket {{authority}}: {{tunnel(authority, SOCKET)}}", flush=True)
for url in URLS:
    print(f"PROBE fetch {{url}}: {{fetch(url)}}", flush=True)
sys.exit(1)
"""


class Listener:
    """A TCP listener on the host that never accepts while the build runs: a connection
    that reached it waits in its backlog, where :meth:`reached` finds it."""

    def __init__(self, host: str) -> None:
        self.socket = socket.create_server((host, 0))
        self.port: int = self.socket.getsockname()[1]

    def reached(self) -> int:
        """How many connections arrived (taken from the backlog)."""
        self.socket.setblocking(False)
        count = 0
        with contextlib.suppress(BlockingIOError):
            while True:
                connection, _ = self.socket.accept()
                connection.close()
                count += 1
        return count

    def close(self) -> None:
        self.socket.close()


def host_address() -> str | None:
    """This host's address on its default route (no packet is sent), or None."""
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
        try:
            probe.connect(("198.51.100.1", 9))
        except OSError:
            return None
        address: str = probe.getsockname()[0]
    return None if address.startswith("127.") else address


@dataclass
class Targets:
    """Where the hostile build tries to go: the host's loopback and outside address, the
    metadata service, and an IP literal of the index itself (allowed only by name)."""

    loopback: Listener
    outside: Listener
    outside_address: str
    index_address: str

    def direct(self) -> list[tuple[str, int]]:
        return [
            ("127.0.0.1", self.loopback.port),
            (self.outside_address, self.outside.port),
            ("169.254.169.254", 80),
            (self.index_address, 443),
        ]

    def tunnels(self) -> list[str]:
        return [
            f"127.0.0.1:{self.loopback.port}",
            f"{self.outside_address}:{self.outside.port}",
            "169.254.169.254:80",
            f"{self.index_address}:443",
            # On the allow-list by name (see allow()), but it resolves to the loopback.
            f"localhost:{self.loopback.port}",
        ]

    def urls(self) -> list[str]:
        return [
            "http://169.254.169.254/latest/meta-data/",
            f"http://{self.outside_address}:{self.outside.port}/",
        ]

    def allow(self) -> tuple[str, ...]:
        """Extra allow-list entries for the build: a name that leads to the loopback."""
        return (f"localhost:{self.loopback.port}",)

    def assert_nothing_reached(self, found: dict[str, str]) -> None:
        """What the build printed shows every attempt failed: directly (the sandbox's network
        has nothing but its own loopback) and through the proxy, by the relay pip uses and
        by its socket (refused by policy); and no listener saw a connection."""
        for host, port in self.direct():
            assert found[f"direct {host}:{port}"].startswith("failed ("), found
        for authority in self.tunnels():
            assert found[f"tunnel {authority}"].startswith("HTTP/1.1 403 "), found
            assert found[f"socket {authority}"].startswith("HTTP/1.1 403 "), found
        for url in self.urls():
            assert found[f"fetch {url}"] == "HTTP 403", found
        assert self.reached() == 0, "a listener on the host was reached"

    def setup_py(self, proxy_socket: str) -> str:
        return PROBE_SETUP_PY.format(
            direct=json.dumps(self.direct()),
            tunnels=json.dumps(self.tunnels()),
            urls=json.dumps(self.urls()),
            socket=proxy_socket,
        )

    def reached(self) -> int:
        return self.loopback.reached() + self.outside.reached()


@contextlib.contextmanager
def targets(outside_address: str, index_address: str) -> Iterator[Targets]:
    loopback, outside = Listener("127.0.0.1"), Listener("0.0.0.0")  # noqa: S104 - the target
    try:
        yield Targets(loopback, outside, outside_address, index_address)
    finally:
        loopback.close()
        outside.close()


def probes(lines: list[str]) -> dict[str, str]:
    """``{"direct 127.0.0.1:5000": "failed (...)", ...}`` from the build's output."""
    found = {}
    for line in lines:
        text = line.strip()
        if text.startswith("PROBE "):
            label, _, result = text[6:].partition(": ")
            found[label] = result
    return found
