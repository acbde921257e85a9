"""What a pip run inside the install sandbox needs of the host: the few files the C
library's resolver reads (``localhost`` and the like), the CA certificates, pip's site
configuration, and the variables that configure pip, proxies and TLS.

Only these are passed in, all read-only; nothing else of the host's environment or ``/etc``.
Paths named by the copied variables or by pip's configuration files (a certificate bundle, a
local find-links folder, a constraints file) are bound too, at the same path, when they
exist and anyone may read them: the build code of the packages installed can read whatever
is bound, so nothing that only root should read is. The host's DNS servers
(``/etc/resolv.conf``) stay out: the sandbox has no network to reach them by, and names are
resolved by the egress proxy, outside.
"""

from __future__ import annotations

import configparser
import os
import stat
from collections.abc import Iterable, Mapping
from pathlib import Path

NAME_RESOLUTION = (
    "/etc/hosts",
    "/etc/nsswitch.conf",
    "/etc/host.conf",
    "/etc/gai.conf",
)
# Not the whole of /etc/ssl: its private/ folder holds the host's keys.
TLS = ("/etc/ssl/certs", "/etc/ssl/openssl.cnf")
# pip's site-wide configuration ($XDG_CONFIG_DIRS/pip and /etc/pip.conf); the user's own
# configuration (under root's home) stays out.
PIP_SITE_CONFIG = ("/etc/xdg/pip", "/etc/pip.conf")
CA_VARIABLES = ("SSL_CERT_FILE", "SSL_CERT_DIR", "REQUESTS_CA_BUNDLE", "CURL_CA_BUNDLE")
# Folders too broad to bind whatever a variable says.
_NEVER_BIND = ("/", "/etc", "/root", "/home", "/proc", "/sys", "/dev")


def pip_variables(environ: Mapping[str, str]) -> dict[str, str]:
    """The variables of ``environ`` that configure pip, proxies and certificates."""
    return {
        name: value
        for name, value in environ.items()
        if name.startswith("PIP_") or name.upper().endswith("_PROXY") or name in CA_VARIABLES
    }


def host_binds(environ: Mapping[str, str]) -> list[tuple[Path, str]]:
    """Read-only ``(host path, sandbox path)`` binds for a pip run, parents before children."""
    fixed = [Path(name) for name in (*NAME_RESOLUTION, *TLS, *PIP_SITE_CONFIG)]
    named = [*_paths_in(pip_variables(environ).values()), *_paths_in(_config_values(environ))]
    chosen: list[Path] = []
    for path in sorted({*fixed, *named}, key=lambda p: (len(p.parts), str(p))):
        if str(path) in _NEVER_BIND or any(path.is_relative_to(done) for done in chosen):
            continue
        if _public(path):
            chosen.append(path)
    return [(path, str(path)) for path in chosen]


def pip_config(environ: Mapping[str, str]) -> list[configparser.RawConfigParser]:
    """pip's site configuration files and the one ``PIP_CONFIG_FILE`` names, parsed; files
    that are missing or unreadable are left out."""
    files = [Path(PIP_SITE_CONFIG[0]) / "pip.conf", Path(PIP_SITE_CONFIG[1])]
    if environ.get("PIP_CONFIG_FILE"):
        files.append(Path(environ["PIP_CONFIG_FILE"]))
    parsed = []
    for file in files:
        parser = configparser.RawConfigParser(strict=False)
        try:
            parser.read(file, encoding="utf-8")
        except (configparser.Error, UnicodeDecodeError):
            continue
        parsed.append(parser)
    return parsed


def _config_values(environ: Mapping[str, str]) -> list[str]:
    values: list[str] = []
    for parser in pip_config(environ):
        for section in parser.sections():
            values.extend(value for _, value in parser.items(section) if value)
    return values


def _paths_in(values: Iterable[str]) -> list[Path]:
    """Absolute paths among the words of ``values`` (``file:`` URLs included)."""
    paths = []
    for value in values:
        for word in value.split():
            word = word.removeprefix("file://")
            if word.startswith("/"):
                paths.append(Path(os.path.normpath(word)))
    return paths


def _public(path: Path) -> bool:
    """``path`` exists and every user may read it (and pass through its folders)."""
    try:
        info = path.stat()
    except OSError:
        return False
    wanted = stat.S_IROTH | (stat.S_IXOTH if stat.S_ISDIR(info.st_mode) else 0)
    if info.st_mode & wanted != wanted:
        return False
    for folder in Path(os.path.realpath(path)).parents:
        try:
            if not folder.stat().st_mode & stat.S_IXOTH:
                return False
        except OSError:
            return False
    return True
