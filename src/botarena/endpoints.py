"""Network endpoints as an operator writes them: ``host``, ``host:port``, ``[v6]:port``.

Below everything else, so that the settings can check ``BOTARENA_BUILD_EGRESS_ALLOW`` when
they are read, and the builds' egress policy reads the same names the same way.
"""

from __future__ import annotations

import ipaddress
import re
from dataclasses import dataclass
from typing import TypeAlias

IPAddress: TypeAlias = ipaddress.IPv4Address | ipaddress.IPv6Address

HTTPS_PORT = 443
_LABEL = re.compile(r"[a-z0-9_](?:[a-z0-9_-]{0,61}[a-z0-9_])?")
_MAX_NAME = 253


@dataclass(frozen=True, order=True)
class Endpoint:
    """A host and port: the host a lower-case name or an IP address's canonical text."""

    host: str
    port: int

    def __str__(self) -> str:
        return f"[{self.host}]:{self.port}" if ":" in self.host else f"{self.host}:{self.port}"

    @property
    def address(self) -> IPAddress | None:
        """The host as an address, when it is an IP literal."""
        try:
            return ipaddress.ip_address(self.host)
        except ValueError:
            return None


def parse_host(text: str) -> str:
    """A host as written in a URL or a ``CONNECT`` line, brackets and all, in canonical form:
    names lower-cased without a trailing dot, IP addresses as :mod:`ipaddress` writes them.
    Raises :class:`ValueError` with a sentence for anything else."""
    if text.startswith("[") and text.endswith("]"):
        try:
            return str(ipaddress.IPv6Address(text[1:-1]))
        except ValueError:
            raise ValueError(f"{text!r} is not an IPv6 address") from None
    try:
        return str(ipaddress.IPv4Address(text))
    except ValueError:
        pass
    name = text.lower().removesuffix(".")
    labels = name.split(".")
    if not name or len(name) > _MAX_NAME or not all(_LABEL.fullmatch(x) for x in labels):
        raise ValueError(f"{text[:100]!r} is not a host name or an IP address")
    return name


def parse_endpoint(text: str, default_port: int | None = None) -> Endpoint:
    """``host:port`` (``[v6]:port`` for IPv6); ``default_port`` when the port is left out."""
    host, port = text, None
    if text.startswith("["):
        closing = text.find("]")
        if closing > 0 and text[closing + 1 :].startswith(":"):
            host, port = text[: closing + 1], text[closing + 2 :]
    elif text.count(":") == 1:
        host, port = text.split(":")
    if port is None:
        if default_port is None:
            raise ValueError(f"{text[:100]!r} names no port")
        return Endpoint(parse_host(host), default_port)
    if not port.isascii() or not port.isdigit() or not 1 <= int(port) <= 65535:
        raise ValueError(f"{text[:100]!r} has no valid port (1 to 65535)")
    return Endpoint(parse_host(host), int(port))


def parse_allow_entry(text: str) -> Endpoint:
    """One entry of ``BOTARENA_BUILD_EGRESS_ALLOW``: ``host`` (port 443) or ``host:port``,
    IPv6 in brackets. Raises :class:`ValueError` with a sentence."""
    text = text.strip()
    if "/" in text or "@" in text:
        raise ValueError(f"{text[:100]!r} must be a host or host:port, not a URL")
    return parse_endpoint(text, HTTPS_PORT)
