"""The egress policy of a build: which host names it may reach, and which addresses never.

A build names where it wants to go (``CONNECT pypi.org:443``); the name, exactly as given,
must be on the allow-list. The name is then resolved once, and the connection goes to one of
the addresses that answer, never to a loopback, link-local, unspecified, multicast or cloud
metadata address, whatever the name: an allowed name whose DNS answer changes to
``127.0.0.1`` (rebinding) leads nowhere. Private and reserved ranges are not refused: an
internal package mirror lives there, and the allow-list, not the address class, is what
admits a host.
"""

from __future__ import annotations

import asyncio
import ipaddress
import socket
from collections.abc import Awaitable, Callable, Iterable
from typing import TypeAlias

from botarena.endpoints import Endpoint, IPAddress

Resolver: TypeAlias = Callable[[str, int], Awaitable[list[IPAddress]]]

# Never reachable from a build, whatever name leads there: (network, what it is).
_NEVER: tuple[tuple[ipaddress.IPv4Network | ipaddress.IPv6Network, str], ...] = tuple(
    (ipaddress.ip_network(network), what)
    for network, what in (
        ("169.254.169.254/32", "a cloud metadata address"),
        ("fd00:ec2::254/128", "a cloud metadata address"),
        ("0.0.0.0/8", "an unspecified address"),
        ("127.0.0.0/8", "a loopback address"),
        ("169.254.0.0/16", "a link-local address"),
        ("224.0.0.0/4", "a multicast address"),
        ("255.255.255.255/32", "a broadcast address"),
        ("::/128", "an unspecified address"),
        ("::1/128", "a loopback address"),
        ("fe80::/10", "a link-local address"),
        ("ff00::/8", "a multicast address"),
    )
)
# IPv6 forms that carry an IPv4 address the kernel or a gateway may end up using.
_EMBEDDING = tuple(ipaddress.IPv6Network(n) for n in ("::ffff:0:0/96", "64:ff9b::/96", "::/96"))


class EgressError(Exception):
    """A connection that cannot be made; the message is one sentence for the build's log,
    ``status`` the HTTP status the proxy answers with."""

    status = 502


class RefusedByPolicyError(EgressError):
    """A connection the policy refuses."""

    status = 403


def never_reachable(address: IPAddress) -> str | None:
    """What ``address`` is when no build may ever connect to it (``"a loopback address"``),
    else None. IPv4 addresses carried in IPv6 forms are judged too."""
    for network, what in _NEVER:
        if address.version == network.version and address in network:
            return what
    if isinstance(address, ipaddress.IPv6Address) and any(address in n for n in _EMBEDDING):
        return never_reachable(ipaddress.IPv4Address(int(address) & 0xFFFFFFFF))
    return None


async def system_resolver(host: str, port: int) -> list[IPAddress]:
    """The addresses of ``host``, by the system's resolver, in its order, no duplicates."""
    loop = asyncio.get_running_loop()
    answers = await loop.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    found: list[IPAddress] = []
    for family, _, _, _, sockaddr in answers:
        if family in (socket.AF_INET, socket.AF_INET6) and isinstance(sockaddr[0], str):
            # A link-local answer carries its scope ("fe80::1%eth0"); it is refused anyway.
            address = ipaddress.ip_address(sockaddr[0].partition("%")[0])
            if address not in found:
                found.append(address)
    return found


class EgressPolicy:
    """The endpoints a build may reach, and the addresses to connect to for each."""

    def __init__(self, allowed: Iterable[Endpoint], resolver: Resolver = system_resolver):
        self.allowed = frozenset(allowed)
        self._resolve = resolver

    def check(self, endpoint: Endpoint) -> None:
        """Raise :class:`RefusedByPolicyError` unless ``endpoint`` is on the allow-list."""
        if endpoint not in self.allowed:
            raise RefusedByPolicyError(
                f"egress refused by policy: {endpoint} is not on the build's allow-list"
            )
        literal = endpoint.address
        if literal is not None and (what := never_reachable(literal)):
            raise RefusedByPolicyError(f"egress refused by policy: {endpoint} is {what}")

    async def addresses(self, endpoint: Endpoint) -> list[IPAddress]:
        """Check ``endpoint`` and resolve it, once: the addresses to try, in order, with
        the ones no build may reach left out. Raises :class:`RefusedByPolicyError`, or
        :class:`EgressError` when the name does not resolve."""
        self.check(endpoint)
        literal = endpoint.address
        if literal is not None:
            return [literal]
        try:
            answers = await self._resolve(endpoint.host, endpoint.port)
        except (OSError, UnicodeError, ValueError):
            answers = []
        if not answers:
            raise EgressError(f"egress failed: {endpoint.host} does not resolve")
        usable = [address for address in answers if never_reachable(address) is None]
        if not usable:
            what = never_reachable(answers[0])
            raise RefusedByPolicyError(
                f"egress refused by policy: {endpoint.host} resolves to {answers[0]}, {what}"
            )
        return usable
