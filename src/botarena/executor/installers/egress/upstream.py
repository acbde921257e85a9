"""The host's own proxy, when it has one: the egress proxy chains to it instead of connecting.

Read from the variables pip would have used outside the sandbox: pip's ``proxy`` option
(``PIP_PROXY`` or its configuration files), else ``https_proxy``/``HTTPS_PROXY`` for
tunnels and ``http_proxy``/``HTTP_PROXY`` for plain requests, with ``no_proxy``/``NO_PROXY``
naming the hosts reached directly. Only plain ``http://`` proxies are understood. Through an
upstream proxy the names are resolved there, not here, so it is that proxy that decides
which address a name leads to.
"""

from __future__ import annotations

import base64
from collections.abc import Mapping
from dataclasses import dataclass, field
from urllib.parse import unquote, urlsplit

from botarena.endpoints import Endpoint, parse_host
from botarena.executor.installers.host_config import pip_config

_DEFAULT_PORT = 80


@dataclass(frozen=True)
class Upstream:
    """An HTTP proxy to chain to; ``authorization`` is its ``Proxy-Authorization`` value."""

    endpoint: Endpoint
    # Never in a log line or a repr: it is a credential.
    authorization: str | None = field(default=None, repr=False)

    def header(self) -> bytes:
        if self.authorization is None:
            return b""
        return f"Proxy-Authorization: {self.authorization}\r\n".encode()


@dataclass(frozen=True)
class Upstreams:
    """Which upstream proxy, if any, each kind of request goes through."""

    tunnel: Upstream | None = None
    plain: Upstream | None = None
    no_proxy: str = ""

    def for_request(self, endpoint: Endpoint, *, tunnel: bool) -> Upstream | None:
        chosen = self.tunnel if tunnel else self.plain
        return None if chosen is None or self._bypassed(endpoint) else chosen

    def _bypassed(self, endpoint: Endpoint) -> bool:
        """``no_proxy`` as curl and requests read it: ``*``, or names that match the host
        or a domain it is in (a leading dot optional), each with or without a port."""
        for entry in self.no_proxy.replace(" ", ",").split(","):
            entry = entry.strip().lower()
            if entry == "*":
                return True
            name, _, port = entry.rpartition(":") if entry.count(":") == 1 else (entry, "", "")
            if port and port != str(endpoint.port):
                continue
            name = name.strip("[]").lstrip(".")
            if name and (endpoint.host == name or endpoint.host.endswith(f".{name}")):
                return True
        return False


def upstreams_from(environ: Mapping[str, str]) -> Upstreams:
    """The upstream proxies ``environ`` and pip's configuration name. Raises
    :class:`ValueError` for a proxy that is not a plain ``http://`` one."""
    configured = environ.get("PIP_PROXY") or _pip_config_proxy(environ)
    tunnel = configured or _variable(environ, "https_proxy")
    plain = configured or _variable(environ, "http_proxy")
    return Upstreams(
        tunnel=parse_proxy_url(tunnel) if tunnel else None,
        plain=parse_proxy_url(plain) if plain else None,
        no_proxy=_variable(environ, "no_proxy"),
    )


def parse_proxy_url(url: str) -> Upstream:
    """``http://[user:password@]host[:port]``, the scheme optional."""
    parts = urlsplit(url if "://" in url else f"http://{url}")
    if parts.scheme != "http" or not parts.hostname:
        # The URL may hold a password: only its scheme is repeated.
        raise ValueError(f"the upstream proxy must be an http:// URL, not {parts.scheme}://")
    host = f"[{parts.hostname}]" if ":" in parts.hostname else parts.hostname
    endpoint = Endpoint(parse_host(host), parts.port or _DEFAULT_PORT)
    authorization = None
    if parts.username is not None:
        pair = f"{unquote(parts.username)}:{unquote(parts.password or '')}"
        authorization = "Basic " + base64.b64encode(pair.encode()).decode("ascii")
    return Upstream(endpoint, authorization)


def _variable(environ: Mapping[str, str], name: str) -> str:
    return environ.get(name) or environ.get(name.upper()) or ""


def _pip_config_proxy(environ: Mapping[str, str]) -> str:
    found = ""
    for parser in pip_config(environ):
        for section in ("global", "install"):
            if parser.has_option(section, "proxy"):
                found = parser.get(section, "proxy").strip() or found
    return found
