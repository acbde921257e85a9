"""Where a build may go: the package indexes pip is configured with, and the operator's list.

pip's configuration is read as :mod:`botarena.executor.installers.host_config` reads it (the
site configuration files, ``PIP_CONFIG_FILE`` and the ``PIP_*`` variables): the hosts of
``index-url``, ``extra-index-url`` and ``find-links`` URLs, on the URL's port (443 for
``https``, 80 for ``http``), and ``trusted-host`` names (both ports unless one is given).
With no ``index-url``, pip uses PyPI: ``pypi.org`` and its files host
``files.pythonhosted.org``, which is also allowed wherever ``pypi.org`` is. The operator adds
hosts with ``BOTARENA_BUILD_EGRESS_ALLOW``; a requirements file cannot add any.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from urllib.parse import urlsplit

from botarena.endpoints import HTTPS_PORT, Endpoint, parse_allow_entry, parse_endpoint, parse_host
from botarena.executor.installers.host_config import pip_config

PYPI = "pypi.org"
PYPI_FILES = "files.pythonhosted.org"
HTTP_PORT = 80
_URL_OPTIONS = ("index-url", "extra-index-url", "find-links")
_OPTIONS = (*_URL_OPTIONS, "trusted-host")
# Of pip's configuration, what an install reads.
_SECTIONS = ("global", "install")


def build_allow_list(environ: Mapping[str, str], extra: Iterable[str] = ()) -> frozenset[Endpoint]:
    """The endpoints a build may reach: pip's indexes as configured here, plus ``extra``."""
    values = pip_options(environ)
    allowed: set[Endpoint] = set()
    for option in _URL_OPTIONS:
        for word in values.get(option, []):
            allowed.update(_url_endpoints(word))
    for word in values.get("trusted-host", []):
        allowed.update(_trusted_endpoints(word))
    if not values.get("index-url"):
        allowed.add(Endpoint(PYPI, HTTPS_PORT))
    if any(endpoint.host == PYPI for endpoint in allowed):
        allowed.add(Endpoint(PYPI_FILES, HTTPS_PORT))
    allowed.update(parse_allow_entry(entry) for entry in extra)
    return frozenset(allowed)


def pip_options(environ: Mapping[str, str]) -> dict[str, list[str]]:
    """The words of the index options as pip would see them: a later configuration file
    overrides an earlier one, ``[install]`` overrides ``[global]``, a variable overrides
    them all."""
    values: dict[str, list[str]] = {}
    for parser in pip_config(environ):
        for section in _SECTIONS:
            if not parser.has_section(section):
                continue
            for key, value in parser.items(section):
                option = key.replace("_", "-")
                if option in _OPTIONS:
                    values[option] = value.split()
    for option in _OPTIONS:
        variable = "PIP_" + option.upper().replace("-", "_")
        if environ.get(variable):
            values[option] = environ[variable].split()
    return values


def _url_endpoints(word: str) -> list[Endpoint]:
    parts = urlsplit(word)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        return []  # a local folder or file
    try:
        port = parts.port or (HTTPS_PORT if parts.scheme == "https" else HTTP_PORT)
        return [Endpoint(parse_host(_bracketed(parts.hostname)), port)]
    except ValueError:
        return []  # pip itself will refuse it


def _trusted_endpoints(word: str) -> list[Endpoint]:
    try:
        named = parse_endpoint(word)
    except ValueError:
        try:
            host = parse_host(word)
        except ValueError:
            return []
        return [Endpoint(host, HTTPS_PORT), Endpoint(host, HTTP_PORT)]
    return [named]


def _bracketed(hostname: str) -> str:
    return f"[{hostname}]" if ":" in hostname else hostname
