"""An independent reading of URL hosts, which the code-URL property tests compare the checks with.

What address a resolver takes a host for (the C library's ``inet_aton``, :mod:`ipaddress`),
whether :mod:`ipaddress` calls that address internal, and which allow-list entries name it.
"""

from __future__ import annotations

import ipaddress
import socket
from collections.abc import Sequence
from urllib.parse import urlsplit

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address

V4 = ipaddress.IPv4Address
V6 = ipaddress.IPv6Address


def inet_aton(text: str) -> V4 | None:
    """The C library's reading of a numeric IPv4 host, as ``getaddrinfo`` uses it."""
    if not text or not text.isascii() or any(ch.isspace() or ch == "\x00" for ch in text):
        return None  # inet_aton stops at whitespace and would read "1.2.3.4 x" as 1.2.3.4
    try:
        return V4(socket.inet_aton(text))
    except OSError:
        return None


def resolver_reading(host: str) -> IPAddress | None:
    """The address a resolver or URL parser would take ``host`` for, or None for a name."""
    if host.startswith("[") and host.endswith("]"):
        host = host[1:-1]
    if ":" in host:
        try:
            return V6(host.partition("%")[0])
        except ValueError:
            return None
    # URL parsers (WHATWG, curl) drop one trailing dot before reading IPv4; inet_aton does not.
    return inet_aton(host) or inet_aton(host.removesuffix("."))


def judged(address: IPAddress) -> list[IPAddress]:
    """The addresses a connection to ``address`` really reaches.

    Mapped, NAT64, 6to4 and Teredo addresses reach the IPv4 addresses they carry, so those are
    the ones judged, as :func:`is_internal_address` documents.
    """
    if isinstance(address, V6):
        if address.ipv4_mapped is not None:
            return [address.ipv4_mapped]
        if address in ipaddress.IPv6Network("64:ff9b::/96"):
            return [V4(int(address) & 0xFFFFFFFF)]
        if address.sixtofour is not None:
            return [address.sixtofour]
        if address.teredo is not None:
            return list(address.teredo)
    return [address]


def looks_internal(address: IPAddress) -> bool:
    """:mod:`ipaddress`'s verdict: internal unless it calls every address reached global."""
    return any(
        not reached.is_global
        or reached.is_private
        or reached.is_loopback
        or reached.is_link_local
        or reached.is_multicast
        or reached.is_reserved
        or reached.is_unspecified
        or (isinstance(reached, V6) and reached.is_site_local)
        for reached in judged(address)
    )


# Ranges refused on purpose although this Python's ipaddress calls them global.
STRICTER = [ipaddress.ip_network(net) for net in ("192.0.0.0/24", "192.88.99.0/24", "3fff::/20")]


def stricter(address: IPAddress) -> bool:
    return any(reached in net for reached in judged(address) for net in STRICTER)


def idna_mapped(host: str) -> str:
    try:
        return host.encode("idna").decode("ascii") if not host.isascii() else host
    except UnicodeError:
        return host


def allow_entry(entry: str) -> tuple[str, int | None]:
    """An allow-list entry's host and port, read by urllib (a bare IPv6 entry has no port)."""
    entry = entry.strip()
    if not entry.startswith("[") and entry.count(":") > 1:
        return entry, None
    parts = urlsplit(f"//{entry}")
    return parts.hostname or "", parts.port


def matches_an_entry(host: str, port: int, allow_hosts: Sequence[str]) -> bool:
    for entry in allow_hosts:
        entry_host, entry_port = allow_entry(entry)
        if entry_port not in (None, port):
            continue
        address = resolver_reading(entry_host)
        if address is not None and address == resolver_reading(host):
            return True
        if address is None and entry_host.lower().removesuffix(".") == host:
            return True
    return False
