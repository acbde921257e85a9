"""The HTTP the egress proxy speaks: reading a proxy request's head, writing its answers.

Two kinds of request are understood: ``CONNECT host:port`` (a tunnel, what pip uses for
``https://``) and a plain request with an absolute ``http://`` URL, which is sent on with
``Connection: close`` so that one connection never leads to a second host.
"""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import urlsplit

from botarena.endpoints import Endpoint, parse_endpoint, parse_host

HEAD_END = b"\r\n\r\n"
_HTTP_PORT = 80
# Hop-by-hop headers, and the ones meant for a proxy: never sent on.
_DROPPED = {"connection", "keep-alive", "proxy-connection", "proxy-authorization", "te"}
_REASONS = {
    200: "Connection established",
    400: "Bad Request",
    403: "Forbidden",
    502: "Bad Gateway",
    503: "Service Unavailable",
}


class MalformedRequestError(ValueError):
    """A head this proxy does not understand; the message says why, in a few words."""


@dataclass(frozen=True)
class ProxyRequest:
    """Where a request goes, and for plain requests the head to send there.

    ``origin_head`` is for the host itself, ``proxy_head`` for an upstream proxy (the URL
    kept whole); both end with the blank line. Tunnels have neither.
    """

    endpoint: Endpoint
    tunnel: bool
    origin_head: bytes = b""
    proxy_head: bytes = b""


def parse_request(head: bytes) -> ProxyRequest:
    """Read a request head (up to and including the blank line).

    Raises :class:`MalformedRequestError` for anything else.
    """
    lines = head.decode("latin-1").split("\r\n")
    words = lines[0].split(" ")
    if len(words) != 3 or not words[2].startswith("HTTP/1."):
        raise MalformedRequestError("not an HTTP/1 request line")
    method, target, version = words
    if method == "CONNECT":
        try:
            return ProxyRequest(parse_endpoint(target), tunnel=True)
        except ValueError as exc:
            raise MalformedRequestError(f"CONNECT to {exc}") from None
    if not method.isalpha() or not method.isupper():
        raise MalformedRequestError("not an HTTP method")
    parts = urlsplit(target)
    scheme = parts.scheme.lower()
    if scheme == "https":
        raise MalformedRequestError("an https:// URL must go through CONNECT")
    if scheme != "http" or not parts.hostname or parts.username is not None:
        raise MalformedRequestError("only CONNECT and http:// URLs go through this proxy")
    try:
        host = f"[{parts.hostname}]" if ":" in parts.hostname else parts.hostname
        endpoint = Endpoint(parse_host(host), parts.port or _HTTP_PORT)
    except ValueError as exc:
        raise MalformedRequestError(str(exc)) from None
    kept = [line for line in lines[1:] if line and _header_name(line) not in _DROPPED]
    path = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    url = f"http://{endpoint}{path}"
    return ProxyRequest(
        endpoint,
        tunnel=False,
        origin_head=_head(f"{method} {path} {version}", kept),
        proxy_head=_head(f"{method} {url} {version}", kept),
    )


def answer(status: int, text: str = "") -> bytes:
    """A complete response that ends the connection; ``text`` is its plain-text body."""
    reason = _REASONS.get(status, "Error")
    if status == 200:
        return f"HTTP/1.1 200 {reason}\r\n\r\n".encode()
    body = (text + "\n").encode("utf-8", errors="replace") if text else b""
    return (
        f"HTTP/1.1 {status} {reason}\r\nContent-Type: text/plain; charset=utf-8\r\n"
        f"Content-Length: {len(body)}\r\nConnection: close\r\n\r\n"
    ).encode() + body


def status_of(head: bytes) -> tuple[int, str]:
    """The status code and line of a response head (0 when it is not one)."""
    line = head.split(b"\r\n", 1)[0].decode("latin-1")
    words = line.split(" ", 2)
    if len(words) >= 2 and words[0].startswith("HTTP/1.") and words[1].isdigit():
        return int(words[1]), line[:200]
    return 0, line[:200]


def _header_name(line: str) -> str:
    return line.partition(":")[0].strip().lower()


def _head(first: str, headers: list[str]) -> bytes:
    return "\r\n".join([first, *headers, "Connection: close", "", ""]).encode("latin-1")
