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
  ``127.1``...), all read by :mod:`botarena.sources.addresses`. Host names are only checked
  for shape here, because DNS answers change.
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
from urllib.parse import quote

from botarena.sources.addresses import (
    Host,
    IPAddress,
    SourceUrlError,
    is_internal_address,
    normalise_host,
    parse_ip_literal,
)

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

MAX_URL_LENGTH = 2048
"""Longest ``codeUrl`` accepted, in characters."""

_DEFAULT_PORTS = {"https": 443, "http": 80}

_SCHEME_RE = re.compile(r"([A-Za-z][A-Za-z0-9+.\-]*):")
_PORT_RE = re.compile(r"[0-9]+")

# Unicode categories refused anywhere in a URL, besides whatever str.isspace() reports:
# controls, invisible format characters (zero-width space, bidi overrides), lone surrogates
# and separators.
_FORBIDDEN_CATEGORIES = frozenset({"Cc", "Cf", "Cs", "Zs", "Zl", "Zp"})


@dataclass(frozen=True)
class CheckedUrl:
    """A ``codeUrl`` that passed :func:`validate_code_url`."""

    url: str
    """The URL as accepted: scheme and host normalised, the explicit port (if any) written
    as a plain number, the path unchanged but for non-ASCII characters (percent-encoded as
    UTF-8)."""
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
    # A path of other scripts is sent as git sends it: each non-ASCII character as its UTF-8
    # bytes percent-encoded, so that the URL kept and shown is the one fetched.
    path = "".join(c if c.isascii() else quote(c, safe="") for c in slash + path_rest)
    if "@" in authority:
        raise SourceUrlError("codeUrl must not contain credentials")
    host_text, port_text = _split_authority(authority)
    port = _DEFAULT_PORTS[scheme] if port_text is None else _parse_port(port_text)
    host = normalise_host(host_text, in_url=True)

    allow_listed = _matches_allow_list(host, port, allow_hosts)
    _check_host(host, host_text, allow_listed=allow_listed)
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
        target = normalise_host(host, in_url=False)
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
    target = normalise_host(host, in_url=False)
    if not 1 <= port <= 65535:
        raise SourceUrlError("codeUrl port must be a number from 1 to 65535")
    allow_listed = _matches_allow_list(target, port, allow_hosts)
    _check_host(target, host, allow_listed=allow_listed)
    if target.address is not None:
        return [target.address]

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


def _check_host(host: Host, shown: str, *, allow_listed: bool) -> None:
    """Refuse internal addresses and localhost names unless allow-listed, and any zone id.

    ``shown`` is the host as the caller received it, for the error sentences about addresses.
    """
    if host.address is not None and not allow_listed and is_internal_address(host.address):
        raise SourceUrlError(f"codeUrl host {shown} is an internal address")
    if host.has_zone:
        raise SourceUrlError(f"codeUrl host {shown} must not carry an IPv6 zone id")
    if host.address is None and not allow_listed and _is_localhost(host.name):
        raise SourceUrlError(f"codeUrl host {host.name} is not allowed")


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


def _parse_allow_entry(entry: str) -> tuple[Host, int | None]:
    text = entry.strip()
    try:
        # Without brackets, an entry with several colons is a bare IPv6 address and no port.
        if text.startswith("[") or text.count(":") == 1:
            host_text, port_text = _split_authority(text)
        else:
            host_text, port_text = text, None
        host = normalise_host(host_text, in_url=False)
        port = None if port_text is None else _parse_port(port_text)
        if host.has_zone:
            raise SourceUrlError("zone id")
    except SourceUrlError as exc:
        raise ValueError(
            f"BOTARENA_GIT_ALLOW_HOSTS entry {entry!r} is not a valid host[:port]"
        ) from exc
    return host, port


def _matches_allow_list(host: Host, port: int, allow_hosts: Sequence[str]) -> bool:
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
