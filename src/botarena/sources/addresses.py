"""Read ``codeUrl`` hosts: IP literals in every spelling, names, and which addresses are internal.

URL parsers and resolvers downstream understand more spellings of an address than the usual
dotted quad: bracketed IPv6 with zone ids, IPv6 forms embedding an IPv4 address, and the old
BSD ``inet_aton`` spellings of IPv4 (``2130706433``, ``0177.0.0.1``, ``0x7f.1``, ``127.1``...).
:func:`parse_ip_literal` reads them all, :func:`is_internal_address` says whether an address
is anything but public unicast, and :func:`normalise_host` also checks the shape of DNS names.
The URL rules themselves are in :mod:`botarena.sources.urls`.
"""

from __future__ import annotations

import ipaddress
import re
from dataclasses import dataclass
from typing import TypeAlias

__all__ = [
    "Host",
    "IPAddress",
    "SourceUrlError",
    "is_internal_address",
    "normalise_host",
    "parse_ip_literal",
]

IPAddress: TypeAlias = ipaddress.IPv4Address | ipaddress.IPv6Address

_LABEL_RE = re.compile(r"[a-z0-9](?:[a-z0-9\-]{0,61}[a-z0-9])?")
_DECIMAL_RE = re.compile(r"[0-9]+")
_OCTAL_RE = re.compile(r"0[0-7]+")
_HEX_RE = re.compile(r"0[xX][0-9A-Fa-f]*")
_IPV6_TEXT_RE = re.compile(r"[0-9A-Fa-f:.]+")
_ZONE_RE = re.compile(r"[A-Za-z0-9._~\-]+")

_IPV4_NON_GLOBAL = tuple(
    ipaddress.IPv4Network(net)
    for net in (
        "0.0.0.0/8",  # "this network", including the unspecified address
        "10.0.0.0/8",  # private
        "100.64.0.0/10",  # shared address space (carrier-grade NAT)
        "127.0.0.0/8",  # loopback
        "169.254.0.0/16",  # link-local, home of cloud metadata services
        "172.16.0.0/12",  # private
        "192.0.0.0/24",  # IETF protocol assignments
        "192.0.2.0/24",  # documentation
        "192.88.99.0/24",  # former 6to4 relay anycast
        "192.168.0.0/16",  # private
        "198.18.0.0/15",  # benchmarking
        "198.51.100.0/24",  # documentation
        "203.0.113.0/24",  # documentation
        "224.0.0.0/4",  # multicast
        "240.0.0.0/4",  # reserved, including the limited broadcast address
    )
)

_IPV6_GLOBAL_UNICAST = ipaddress.IPv6Network("2000::/3")
_IPV6_NON_GLOBAL_IN_GLOBAL_UNICAST = tuple(
    ipaddress.IPv6Network(net)
    for net in (
        "2001::/23",  # IETF protocol assignments (Teredo is looked through before this)
        "2001:db8::/32",  # documentation
        "3fff::/20",  # documentation
    )
)
_IPV6_MAPPED = ipaddress.IPv6Network("::ffff:0:0/96")
_IPV6_NAT64 = ipaddress.IPv6Network("64:ff9b::/96")
_IPV6_6TO4 = ipaddress.IPv6Network("2002::/16")
_IPV6_TEREDO = ipaddress.IPv6Network("2001::/32")


class SourceUrlError(ValueError):
    """Carries one human sentence, e.g. 'codeUrl must use https://'."""


@dataclass(frozen=True)
class Host:
    """A host after normalisation; ``name`` is the canonical text of ``address`` if set."""

    name: str
    address: IPAddress | None
    has_zone: bool


def parse_ip_literal(host: str) -> IPAddress | None:
    """Any spelling of an IP address -> the address; a plain DNS name -> None.

    Numeric-looking garbage (``1.2.3.4.5``, ``256.1.1.1``, ``0x1g.1``) and malformed IPv6
    raise :class:`SourceUrlError`.

    Understood: IPv6 with or without brackets (a zone id such as ``%25eth0`` is dropped), and
    IPv4 as ``inet_aton`` reads it: one to four parts, each decimal, octal (leading ``0``) or
    hexadecimal (``0x``), the last part filling the remaining bytes (``127.1``,
    ``2130706433``). A host whose last label is a number is an IPv4 address or nothing, as
    URL parsers treat it, so garbage raises rather than falling back to a DNS lookup.
    A trailing dot is ignored, and non-ASCII hosts are first mapped the way IDNA does, which
    turns full-width digits and ideographic full stops into their ASCII forms.
    """
    return _classify_host(host, in_url=False).address


def is_internal_address(address: IPAddress) -> bool:
    """True for anything that is not a public unicast address.

    Embedded IPv4 is looked through (mapped, compatible, 6to4, Teredo, NAT64).

    IPv4 uses an explicit list of special-purpose ranges (so the answer does not change with
    the Python version) and, on top, anything :mod:`ipaddress` calls non-global. IPv6
    outside ``2000::/3`` is internal, which covers loopback, unspecified, IPv4-compatible,
    unique-local, link-local, site-local and multicast; IPv4-mapped, NAT64 (``64:ff9b::/96``),
    6to4 and Teredo addresses are judged by the IPv4 addresses they carry.
    """
    if isinstance(address, ipaddress.IPv4Address):
        return (
            any(address in network for network in _IPV4_NON_GLOBAL)
            or not address.is_global
            or address.is_multicast
            or address.is_reserved
            or address.is_unspecified
        )
    if address in _IPV6_MAPPED or address in _IPV6_NAT64:
        return is_internal_address(ipaddress.IPv4Address(int(address) & 0xFFFFFFFF))
    if address in _IPV6_6TO4:
        return is_internal_address(ipaddress.IPv4Address((int(address) >> 80) & 0xFFFFFFFF))
    if address in _IPV6_TEREDO:
        server = ipaddress.IPv4Address((int(address) >> 64) & 0xFFFFFFFF)
        client = ipaddress.IPv4Address(~int(address) & 0xFFFFFFFF)
        return is_internal_address(server) or is_internal_address(client)
    if address not in _IPV6_GLOBAL_UNICAST:
        return True
    return any(address in network for network in _IPV6_NON_GLOBAL_IN_GLOBAL_UNICAST)


def normalise_host(text: str, *, in_url: bool) -> Host:
    """Normalise a host and check its shape; DNS names must be valid, IP literals well formed."""
    if not text:
        raise SourceUrlError("codeUrl must name a host")
    host = _classify_host(text, in_url=in_url)
    if host.address is None:
        labels = host.name.split(".")
        if len(host.name) > 253 or not all(_LABEL_RE.fullmatch(label) for label in labels):
            raise SourceUrlError(f"codeUrl host {text} is not a valid host name")
    return host


def _classify_host(text: str, *, in_url: bool) -> Host:
    """Tell IP literals from names, without judging whether a name is a valid DNS name.

    ``in_url`` is set for hosts taken from a URL, where IPv6 must be in brackets.
    """
    if text.startswith("["):
        if not text.endswith("]"):
            raise SourceUrlError(f"codeUrl host {text} is not a valid IPv6 address")
        address, has_zone = _parse_ipv6(text[1:-1], text)
        return Host(str(address), address, has_zone)
    if ":" in text:
        if in_url:
            raise SourceUrlError("codeUrl must write an IPv6 host in brackets, like [2001:db8::1]")
        address, has_zone = _parse_ipv6(text, text)
        return Host(str(address), address, has_zone)
    # Percent-escapes are decoded by some parsers and not by others; refuse them outright.
    if "%" in text:
        raise SourceUrlError(f"codeUrl host {text} must not contain percent-escapes")

    name = text
    if not name.isascii():
        # The IDNA mapping also folds full-width digits and ideographic full stops to ASCII,
        # so the address checks below must see its result, not the original text.
        try:
            name = name.encode("idna").decode("ascii")
        except UnicodeError as exc:
            raise SourceUrlError(f"codeUrl host {text} is not a valid host name") from exc
        if ":" in name or "%" in name:
            raise SourceUrlError(f"codeUrl host {text} is not a valid host name")
    name = name.lower()
    if name.endswith("."):
        name = name[:-1]
    if not _looks_numeric(name):
        return Host(name, None, False)
    ipv4 = _parse_ipv4(name)
    if ipv4 is None:
        raise SourceUrlError(f"codeUrl host {text} is not a valid IPv4 address")
    return Host(str(ipv4), ipv4, False)


def _parse_ipv6(text: str, shown: str) -> tuple[ipaddress.IPv6Address, bool]:
    """Parse IPv6 text without brackets; return the address and whether a zone id was given."""
    address_text, percent, zone = text.partition("%")
    if percent:
        # RFC 6874 writes the '%' before a zone id as '%25' inside URLs.
        if zone.startswith("25") and len(zone) > 2:
            zone = zone[2:]
        if not _ZONE_RE.fullmatch(zone):
            raise SourceUrlError(f"codeUrl host {shown} is not a valid IPv6 address")
    if not _IPV6_TEXT_RE.fullmatch(address_text):
        raise SourceUrlError(f"codeUrl host {shown} is not a valid IPv6 address")
    try:
        address = ipaddress.IPv6Address(address_text)
    except ValueError as exc:
        raise SourceUrlError(f"codeUrl host {shown} is not a valid IPv6 address") from exc
    return address, bool(percent)


def _looks_numeric(name: str) -> bool:
    """Whether ``name`` must be read as IPv4 (or refused), never looked up as a DNS name.

    URL parsers read a host whose last label is a decimal or hex number as IPv4. Hosts made
    of numbers and empty labels only (``127.0.0.1..``) count too, so that they are refused
    as bad addresses rather than passed on to a resolver.
    """
    labels = name.split(".")
    if _is_number_label(labels[-1]):
        return True
    return any(labels) and all(not label or _is_number_label(label) for label in labels)


def _is_number_label(label: str) -> bool:
    return bool(_DECIMAL_RE.fullmatch(label) or _HEX_RE.fullmatch(label))


def _parse_ipv4(name: str) -> ipaddress.IPv4Address | None:
    """Read IPv4 the way ``inet_aton`` does (and URL parsers after it), or return None."""
    parts = name.split(".")
    if len(parts) > 4:
        return None
    numbers: list[int] = []
    for part in parts:
        number = _parse_ipv4_number(part)
        if number is None:
            return None
        numbers.append(number)
    *leading, last = numbers
    if any(number > 255 for number in leading):
        return None
    if last >= 256 ** (5 - len(numbers)):
        return None
    value = last
    for index, number in enumerate(leading):
        value += number << (8 * (3 - index))
    return ipaddress.IPv4Address(value)


def _parse_ipv4_number(part: str) -> int | None:
    # The patterns are checked before int(), which would also accept '+', '_' and spaces.
    if _HEX_RE.fullmatch(part):
        digits, radix = part[2:], 16
    elif len(part) > 1 and part.startswith("0"):
        if not _OCTAL_RE.fullmatch(part):
            return None
        digits, radix = part[1:], 8
    elif _DECIMAL_RE.fullmatch(part):
        digits, radix = part, 10
    else:
        return None
    digits = digits.lstrip("0")
    if not digits:
        return 0
    # Eleven significant digits exceed 32 bits in every radix used here.
    if len(digits) > 11:
        return None
    return int(digits, radix)
