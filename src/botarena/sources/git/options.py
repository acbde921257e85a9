"""The configuration and environment git runs with: one transport, one address, no extras.

Git reads configuration and behaviour from many places: system and user config files,
``GIT_*`` variables (``GIT_CONFIG_PARAMETERS`` and ``GIT_CONFIG_COUNT`` can set any option),
templates, hooks. Every fetch therefore starts from an environment built here, not the
server's own, and passes the few options that matter on the command line.
"""

from __future__ import annotations

import ipaddress
import os
from collections.abc import Mapping, Sequence
from pathlib import Path

from botarena.sources.addresses import IPAddress
from botarena.sources.urls import CheckedUrl

# Taken from the server's environment: how the machine reaches the internet and which
# certificate authorities it trusts. Nothing else, so that no GIT_* variable leaks in.
# Through a proxy, the proxy resolves the host name and the address pin below does not
# apply: an operator who sets one must have it refuse internal destinations itself.
_PASSED_THROUGH = (
    "PATH",
    "TMPDIR",
    "GIT_SSL_CAINFO",
    "GIT_SSL_CAPATH",
    "SSL_CERT_FILE",
    "SSL_CERT_DIR",
    "CURL_CA_BUNDLE",
    "http_proxy",
    "https_proxy",
    "HTTPS_PROXY",
    "all_proxy",
    "ALL_PROXY",
    "no_proxy",
    "NO_PROXY",
)

# Options every git command of a fetch runs with. Why each one:
_ALWAYS = (
    # Only the transports named below; this also stops file://, ssh:// and ext:: URLs that
    # a submodule or an alternate could bring in.
    "protocol.allow=never",
    "protocol.https.allow=always",
    # A redirect would send git to a host nobody checked.
    "http.followRedirects=false",
    "http.sslVerify=true",
    # Hooks never come with a clone, but a hook path is config: make sure none is used.
    f"core.hooksPath={os.devnull}",
    # Submodules point at other URLs, unchecked; they are not fetched.
    "submodule.recurse=false",
    "fetch.recurseSubmodules=false",
    # Newer gits may fetch bundles from a URL the server advertises: another unchecked host.
    "transfer.bundleURI=false",
    # No credential helper may hand out the server's own credentials.
    "credential.helper=",
    # Nothing may run in the background after git exits.
    "gc.auto=0",
    "maintenance.auto=false",
    "advice.detachedHead=false",
    # Symbolic links are checked out as git does by default: agent repositories may use them
    # legitimately, and the code is later bound read-only into the sandbox, where a link
    # pointing outside the code leads nowhere useful.
)


def git_options(
    checked: CheckedUrl, addresses: Sequence[IPAddress], *, allow_http: bool
) -> list[str]:
    """The ``-c name=value`` arguments for every git command of one fetch."""
    config = list(_ALWAYS)
    if allow_http:
        config.append("protocol.http.allow=always")
    pin = resolve_pin(checked, addresses)
    if pin is not None:
        config.append(f"http.curloptResolve={pin}")
    return [argument for option in config for argument in ("-c", option)]


def resolve_pin(checked: CheckedUrl, addresses: Sequence[IPAddress]) -> str | None:
    """``HOST:PORT:ADDRESS[,ADDRESS...]`` for curl's resolve list, or None for an IP literal.

    Git hands the value to curl, which then connects to these addresses instead of asking
    DNS again, so an answer that changed since the check (DNS rebinding) is never used.
    """
    if checked.address is not None or not addresses:
        return None
    shown = ",".join(
        f"[{address}]" if isinstance(address, ipaddress.IPv6Address) else str(address)
        for address in addresses
    )
    return f"{checked.host}:{checked.port}:{shown}"


def git_environment(home: Path, environ: Mapping[str, str] | None = None) -> dict[str, str]:
    """The environment of every git command: the machine's network setup and nothing else.

    ``home`` is an empty folder standing in for the home directory, so that no user
    configuration, credential store or cookie file is found.
    """
    source = os.environ if environ is None else environ
    env = {name: source[name] for name in _PASSED_THROUGH if name in source}
    env.update(
        {
            "HOME": str(home),
            "XDG_CONFIG_HOME": str(home),
            "GIT_CONFIG_NOSYSTEM": "1",
            "GIT_CONFIG_GLOBAL": os.devnull,
            # English messages, which the error sentences are read from.
            "LC_ALL": "C",
            "LANG": "C",
            # Never ask for a password: no terminal prompt, and a helper that answers nothing.
            "GIT_TERMINAL_PROMPT": "0",
            "GIT_ASKPASS": "true",
            "GIT_LFS_SKIP_SMUDGE": "1",
        }
    )
    return env
