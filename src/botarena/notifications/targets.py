"""Which webhook URLs may be called, with the same address rules as code URLs.

A URL is checked when the endpoint is made (shape, then its name resolved: every address must
be public) and again at each delivery, where the name is resolved once more and the request is
sent to an address that passed, never to the answer of a second lookup, so a name rebound to
``127.0.0.1`` (DNS rebinding) reaches nothing internal. ``BOTARENA_WEBHOOK_ALLOW_HOSTS`` lists
internal hosts that are accepted all the same, as ``BOTARENA_GIT_ALLOW_HOSTS`` does for code.
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass
from urllib.parse import urlsplit

from botarena.settings import Settings
from botarena.sources.addresses import (
    IPAddress,
    SourceUrlError,
    is_internal_address,
    normalise_host,
)
from botarena.sources.urls import is_allow_listed, resolve_public_addresses

MAX_URL_LENGTH = 2048
_PORTS = {"https": 443, "http": 80}


class TargetError(ValueError):
    """A webhook URL that may not be called, in one sentence."""


@dataclass(frozen=True)
class Target:
    """A webhook URL that passed the shape checks."""

    url: str
    scheme: str
    host: str
    port: int
    path: str  # with its query
    host_header: str


def check_url(url: str, settings: Settings) -> Target:
    """The URL's shape: ``https://host[:port]/path?query`` (``http://`` when the operator
    allows it), no credentials, no fragment, and a host that is no internal address."""
    if not url or len(url) > MAX_URL_LENGTH:
        raise TargetError(f"The URL must be 1 to {MAX_URL_LENGTH} characters long")
    if any(c.isspace() or unicodedata.category(c) in {"Cc", "Cf", "Cs"} for c in url):
        raise TargetError("The URL must not contain spaces or control characters")
    if "\\" in url:
        raise TargetError("The URL must not contain backslashes")
    schemes = ("https", "http") if settings.webhook_allow_http else ("https",)
    parts = urlsplit(url)
    scheme = parts.scheme.lower()
    if scheme not in schemes:
        raise TargetError(f"The URL must start with {' or '.join(s + '://' for s in schemes)}")
    if parts.fragment or "#" in url:
        raise TargetError("The URL must not contain a fragment (#...)")
    if "@" in parts.netloc:
        raise TargetError("The URL must not contain credentials")
    try:
        port = parts.port or _PORTS[scheme]
    except ValueError as exc:
        raise TargetError("The URL's port must be a number from 1 to 65535") from exc
    host_text = parts.hostname or ""
    try:
        host = normalise_host(host_text, in_url=False)
    except SourceUrlError as exc:
        raise TargetError(_sentence(exc)) from exc
    listed = is_allow_listed(host.name, port, settings.webhook_allow_hosts)
    if host.has_zone:
        raise TargetError("The URL's host must not carry an IPv6 zone id")
    if not listed and host.address is not None and is_internal_address(host.address):
        raise TargetError(f"The URL's host {host_text} is an internal address")
    if not listed and (host.name == "localhost" or host.name.endswith(".localhost")):
        raise TargetError(f"The URL's host {host.name} is not allowed")
    path = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    shown = (
        f"[{host.name}]" if host.address is not None and host.address.version == 6 else host.name
    )
    default = port == _PORTS[scheme]
    host_header = shown if default else f"{shown}:{port}"
    return Target(f"{scheme}://{host_header}{path}", scheme, host.name, port, path, host_header)


def resolve(target: Target, settings: Settings) -> list[IPAddress]:
    """The addresses to connect to: the name resolved now, every answer public (or the host
    allow-listed); else :class:`TargetError`."""
    try:
        return resolve_public_addresses(
            target.host, target.port, allow_hosts=settings.webhook_allow_hosts
        )
    except SourceUrlError as exc:
        raise TargetError(_sentence(exc)) from exc


def _sentence(exc: SourceUrlError) -> str:
    return str(exc).replace("codeUrl host", "The URL's host").replace("codeUrl", "The URL")
