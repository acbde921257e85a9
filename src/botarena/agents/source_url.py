"""Decide whether a submitted ``codeUrl`` may be fetched, so that it cannot reach internal hosts.

Participants hand in their bot as a Git URL, and the server fetches it. Without care that is a
server-side request forgery: a URL naming ``127.0.0.1``, the cloud metadata address
``169.254.169.254`` or a host on the private network would make the server talk to
machines the participant cannot reach. The checks come in two stages:

* :func:`validate_code_url` runs when the URL is submitted. It accepts only a plain
  ``https://host[:port]/path`` URL (``http://`` when the operator allows it) and refuses hosts
  that are internal addresses in *any* spelling the URL parsers and resolvers downstream
  understand: bracketed IPv6 with zone ids, IPv6 forms embedding an IPv4 address, and the
  old BSD ``inet_aton`` spellings of IPv4 (``2130706433``, ``0177.0.0.1``, ``0x7f.1``,
  ``127.1``...). Host names are only checked for shape here, because DNS answers change.
* :func:`resolve_public_addresses` runs when the code is fetched. It resolves the name once,
  refuses the fetch if *any* answer is internal, and returns the checked addresses, so that
  the caller connects to exactly those and not to the answer of a second lookup (which DNS
  rebinding could point elsewhere). The caller should also refuse HTTP redirects, or check
  their targets the same way.

The operator may list hosts that are accepted even though they are internal (a Git server on
the local network, say) in ``BOTARENA_GIT_ALLOW_HOSTS``; see :func:`is_allow_listed`.
"""

from __future__ import annotations

import ipaddress
import re
import socket
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TypeAlias

__all__ = [
    "MAX_URL_LENGTH",
    "CheckedUrl",
    "IPAddress",
    "SourceUrlError",
    "is_allow_listed",
    "is_internal_address",
    "parse_ip_literal",
    "resolve_public_addresses",
    "validate_code_url",
]

IPAddress: TypeAlias = ipaddress.IPv4Address | ipaddress.IPv6Address

MAX_URL_LENGTH = 2048
"""Longest ``codeUrl`` accepted, in characters."""

_DEFAULT_PORTS = {"https": 443, "http": 80}

_SCHEME_RE = re.compile(r"([A-Za-z][A-Za-z0-9+.\-]*):")
_PORT_RE = re.compile(r"[0-9]+")
_LABEL_RE = re.compile(r"[a-z0-9](?:[a-z0-9\-]{0,61}[a-z0-9])?")
_DECIMAL_RE = re.compile(r"[0-9]+")
_OCTAL_RE = re.compile(r"0[0-7]+")
_HEX_RE = re.compile(r"0[xX][0-9A-Fa-f]*")
_IPV6_TEXT_RE = re.compile(r"[0-9A-Fa-f:.]+")
_ZONE_RE = re.compile(r"[A-Za-z0-9._~\-]+")

# Unicode categories refused anywhere in a URL, besides whatever str.isspace() reports:
# controls, invisible format characters (zero-width space, bidi overrides), lone surrogates
# and separators.
_FORBIDDEN_CATEGORIES = frozenset({"Cc", "Cf", "Cs", "Zs", "Zl", "Zp"})

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
class CheckedUrl:
    """A ``codeUrl`` that passed :func:`validate_code_url`."""

    url: str
    """The URL as accepted: scheme and host normalised, the explicit port (if any) written
    as a plain number, the path unchanged."""
    scheme: str
    """``'https'`` or ``'http'``."""
    host: str
    """Lower case, no trailing dot, punycode for IDN, no brackets for IPv6; IPv4 addresses
    in any spelling become the usual dotted quad."""
    port: int
    """The port connected to: the explicit one, or 443/80 by scheme."""
    address: IPAddress | None
    """Set when the host is an IP literal."""
    allow_listed: bool
    """Whether the host matched the operator's allow-list."""


@dataclass(frozen=True)
class _Host:
    """A host after normalisation; ``name`` is the canonical text of ``address`` if set."""

    name: str
    address: IPAddress | None
    has_zone: bool


def validate_code_url(url: str, *, allow_http: bool, allow_hosts: Sequence[str]) -> CheckedUrl:
    """Check a submitted ``codeUrl`` and return it normalised, or raise :class:`SourceUrlError`.

    Only the shape of the URL and of its host is checked here; names are resolved, and their
    addresses checked, at fetch time by :func:`resolve_public_addresses`.

    A malformed allow-list entry raises a plain :class:`ValueError` (a configuration
    mistake, not the participant's).
    """
    if not isinstance(url, str):
        raise SourceUrlError("codeUrl must be a string")
    if not url:
        raise SourceUrlError("codeUrl must not be empty")
    if len(url) > MAX_URL_LENGTH:
        raise SourceUrlError(f"codeUrl must be at most {MAX_URL_LENGTH} characters long")
    if any(_is_space_or_control(char) for char in url):
        raise SourceUrlError("codeUrl must not contain whitespace or control characters")
    # Some URL parsers read a backslash as a slash and others do not; refusing it removes the
    # disagreement about where the host ends.
    if "\\" in url:
        raise SourceUrlError("codeUrl must not contain backslashes")

    allowed_schemes = ("https", "http") if allow_http else ("https",)
    wanted = "https:// or http://" if allow_http else "https://"
    match = _SCHEME_RE.match(url)
    if match is None:
        raise SourceUrlError(
            f"codeUrl must be an {wanted} URL, not a local path or scp-style address"
        )
    scheme = match.group(1).lower()
    if scheme not in allowed_schemes:
        raise SourceUrlError(f"codeUrl must use {wanted}")
    rest = url[match.end() :]
    if not rest.startswith("//"):
        raise SourceUrlError(f"codeUrl must be an {wanted} URL")
    rest = rest[2:]
    # Checked on the whole remainder, so that '#' or '?' cannot hide an '@' from the host split.
    if "#" in rest:
        raise SourceUrlError("codeUrl must not contain a fragment (#...)")
    if "?" in rest:
        raise SourceUrlError("codeUrl must not contain a query (?...)")

    authority, slash, path_rest = rest.partition("/")
    path = slash + path_rest
    if "@" in authority:
        raise SourceUrlError("codeUrl must not contain credentials")
    host_text, port_text = _split_authority(authority)
    port = _DEFAULT_PORTS[scheme] if port_text is None else _parse_port(port_text)
    host = _normalise_host(host_text, in_url=True)

    allow_listed = _matches_allow_list(host, port, allow_hosts)
    if host.address is not None and not allow_listed and is_internal_address(host.address):
        raise SourceUrlError(f"codeUrl host {host_text} is an internal address")
    if host.has_zone:
        raise SourceUrlError(f"codeUrl host {host_text} must not carry an IPv6 zone id")
    if host.address is None and not allow_listed and _is_localhost(host.name):
        raise SourceUrlError(f"codeUrl host {host.name} is not allowed")
    if not path.strip("/"):
        raise SourceUrlError("codeUrl must name a repository path")

    shown_host = f"[{host.name}]" if isinstance(host.address, ipaddress.IPv6Address) else host.name
    shown_port = "" if port_text is None else f":{port}"
    return CheckedUrl(
        url=f"{scheme}://{shown_host}{shown_port}{path}",
        scheme=scheme,
        host=host.name,
        port=port,
        address=host.address,
        allow_listed=allow_listed,
    )


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


def is_allow_listed(host: str, port: int, allow_hosts: Sequence[str]) -> bool:
    """Whether ``host`` on ``port`` matches an entry of the operator's allow-list.

    Entries are ``host[:port]``; IPv6 is written ``[::1]:8080`` or bare ``::1`` (a bare IPv6
    entry never carries a port). An entry with a port matches only that port, one without
    matches any port. Hosts are compared after normalisation (lower case, no trailing dot,
    punycode), and IP literals as addresses, whatever their spelling: listing ``127.0.0.1``
    also lists ``2130706433`` and ``0x7f.1``. An IPv4 address and its IPv4-mapped IPv6 form
    are different entries.

    A host that is not a valid host is not listed. A malformed entry raises a plain
    :class:`ValueError` naming it.
    """
    try:
        target = _normalise_host(host, in_url=False)
    except SourceUrlError:
        return False
    return _matches_allow_list(target, port, allow_hosts)


def resolve_public_addresses(
    host: str, port: int, *, allow_hosts: Sequence[str]
) -> list[IPAddress]:
    """Fetch-time check: resolve ``host`` once and return its addresses if all are public.

    Resolution uses :func:`socket.getaddrinfo`; when it fails, :class:`SourceUrlError` says
    the host does not resolve. When ANY resolved address is internal, the whole host is
    refused (unless allow-listed). The caller must connect to the returned addresses, not
    to the answer of a second lookup, which DNS rebinding could have changed.

    ``host`` is normally :attr:`CheckedUrl.host`; it is normalised and checked again all the
    same. An IP literal is returned as it is, without a lookup. Addresses come back in the
    resolver's order without duplicates.
    """
    target = _normalise_host(host, in_url=False)
    if not 1 <= port <= 65535:
        raise SourceUrlError("codeUrl port must be a number from 1 to 65535")
    allow_listed = _matches_allow_list(target, port, allow_hosts)
    if target.address is not None:
        if not allow_listed and is_internal_address(target.address):
            raise SourceUrlError(f"codeUrl host {host} is an internal address")
        if target.has_zone:
            raise SourceUrlError(f"codeUrl host {host} must not carry an IPv6 zone id")
        return [target.address]
    if not allow_listed and _is_localhost(target.name):
        raise SourceUrlError(f"codeUrl host {target.name} is not allowed")

    try:
        answers = socket.getaddrinfo(target.name, port, type=socket.SOCK_STREAM)
    except (OSError, UnicodeError) as exc:
        raise SourceUrlError(f"codeUrl host {target.name} does not resolve") from exc

    addresses: list[IPAddress] = []
    for family, _type, _proto, _canonname, sockaddr in answers:
        if family not in (socket.AF_INET, socket.AF_INET6):
            continue
        unusable = SourceUrlError(f"codeUrl host {target.name} resolves to an unusable address")
        raw = sockaddr[0]
        if not isinstance(raw, str):
            raise unusable
        try:
            # Link-local IPv6 answers carry a scope ("fe80::1%eth0"); the address decides.
            address = ipaddress.ip_address(raw.partition("%")[0])
        except ValueError as exc:
            raise unusable from exc
        if address not in addresses:
            addresses.append(address)
    if not addresses:
        raise SourceUrlError(f"codeUrl host {target.name} does not resolve")
    # One internal answer is enough to refuse: the connection could pick any of them.
    if not allow_listed and any(is_internal_address(address) for address in addresses):
        raise SourceUrlError(f"codeUrl host {target.name} resolves to an internal address")
    return addresses


def _is_space_or_control(char: str) -> bool:
    return char.isspace() or unicodedata.category(char) in _FORBIDDEN_CATEGORIES


def _is_localhost(name: str) -> bool:
    return name == "localhost" or name.endswith(".localhost")


def _split_authority(authority: str) -> tuple[str, str | None]:
    """Split ``host[:port]`` (host possibly ``[IPv6]``) into the host text and the port text."""
    if not authority:
        raise SourceUrlError("codeUrl must name a host")
    if authority.startswith("["):
        end = authority.find("]")
        if end == -1:
            raise SourceUrlError(f"codeUrl host {authority} is not a valid IPv6 address")
        host_text, after = authority[: end + 1], authority[end + 1 :]
        if not after:
            return host_text, None
        if not after.startswith(":"):
            raise SourceUrlError(f"codeUrl host {authority} is not a valid IPv6 address")
        return host_text, after[1:]
    host_text, colon, port_text = authority.partition(":")
    if ":" in port_text:
        raise SourceUrlError("codeUrl must write an IPv6 host in brackets, like [2001:db8::1]")
    if not host_text:
        raise SourceUrlError("codeUrl must name a host")
    return host_text, (port_text if colon else None)


def _parse_port(text: str) -> int:
    # Guard the length before int() so that a long run of digits stays cheap.
    if not _PORT_RE.fullmatch(text) or len(text.lstrip("0")) > 5:
        raise SourceUrlError("codeUrl port must be a number from 1 to 65535")
    port = int(text)
    if not 1 <= port <= 65535:
        raise SourceUrlError("codeUrl port must be a number from 1 to 65535")
    return port


def _normalise_host(text: str, *, in_url: bool) -> _Host:
    """Normalise a host and check its shape; DNS names must be valid, IP literals well formed."""
    if not text:
        raise SourceUrlError("codeUrl must name a host")
    host = _classify_host(text, in_url=in_url)
    if host.address is None:
        labels = host.name.split(".")
        if len(host.name) > 253 or not all(_LABEL_RE.fullmatch(label) for label in labels):
            raise SourceUrlError(f"codeUrl host {text} is not a valid host name")
    return host


def _classify_host(text: str, *, in_url: bool) -> _Host:
    """Tell IP literals from names, without judging whether a name is a valid DNS name.

    ``in_url`` is set for hosts taken from a URL, where IPv6 must be in brackets.
    """
    if text.startswith("["):
        if not text.endswith("]"):
            raise SourceUrlError(f"codeUrl host {text} is not a valid IPv6 address")
        address, has_zone = _parse_ipv6(text[1:-1], text)
        return _Host(str(address), address, has_zone)
    if ":" in text:
        if in_url:
            raise SourceUrlError("codeUrl must write an IPv6 host in brackets, like [2001:db8::1]")
        address, has_zone = _parse_ipv6(text, text)
        return _Host(str(address), address, has_zone)
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
        return _Host(name, None, False)
    ipv4 = _parse_ipv4(name)
    if ipv4 is None:
        raise SourceUrlError(f"codeUrl host {text} is not a valid IPv4 address")
    return _Host(str(ipv4), ipv4, False)


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


def _parse_allow_entry(entry: str) -> tuple[_Host, int | None]:
    text = entry.strip()
    try:
        if text.startswith("["):
            end = text.find("]")
            if end == -1:
                raise SourceUrlError("unclosed bracket")
            host_text, after = text[: end + 1], text[end + 1 :]
            if after and not after.startswith(":"):
                raise SourceUrlError("text after the bracket")
            port_text = after[1:] if after else None
        elif text.count(":") == 1:
            host_text, _, port_text = text.partition(":")
        else:
            host_text, port_text = text, None
        host = _normalise_host(host_text, in_url=False)
        port = None if port_text is None else _parse_port(port_text)
        if host.has_zone:
            raise SourceUrlError("zone id")
    except SourceUrlError as exc:
        raise ValueError(
            f"BOTARENA_GIT_ALLOW_HOSTS entry {entry!r} is not a valid host[:port]"
        ) from exc
    return host, port


def _matches_allow_list(host: _Host, port: int, allow_hosts: Sequence[str]) -> bool:
    # Every entry is parsed before any is compared, so a malformed one is always reported.
    entries = [_parse_allow_entry(entry) for entry in allow_hosts]
    for entry_host, entry_port in entries:
        if entry_port is not None and entry_port != port:
            continue
        if host.address is not None or entry_host.address is not None:
            if host.address == entry_host.address:
                return True
        elif host.name == entry_host.name:
            return True
    return False
