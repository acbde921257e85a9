"""Turning git's output into one sentence a participant can act on.

Git runs with ``LC_ALL=C``, so its messages are the English ones matched here. Anything not
recognised falls back to git's own ``fatal:`` line; the full output is in the build log.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

_MAX_QUOTED = 200

# (pattern in git's output, what went wrong), first match wins.
_REASONS: tuple[tuple[re.Pattern[str], str], ...] = tuple(
    (re.compile(pattern, re.IGNORECASE), reason)
    for pattern, reason in (
        (r"repository '.*' not found", "repository not found"),
        (r"returned error: 30[0-9]", "the server answered with a redirect, which is not followed"),
        (
            r"authentication failed|could not read (username|password)",
            "the repository asks for credentials; only public repositories can be fetched",
        ),
        (
            r"ssl certificate problem|certificate verification failed"
            r"|ssl_connect|tls connect error",
            "the server's TLS certificate could not be verified or the TLS handshake failed",
        ),
        (r"could not resolve host", "the host does not resolve"),
        (r"failed to connect|couldn't connect", "could not connect to the server"),
        (r"timed out|timeout was reached", "the connection timed out"),
        (r"transport '.*' not allowed", "the URL uses a transport that is not allowed"),
        (r"returned error: ([0-9]{3})", "the server answered HTTP {0}"),
    )
)

_MISSING_BRANCH = re.compile(r"remote branch .* not found in upstream", re.IGNORECASE)
_MISSING_COMMIT = re.compile(r"not our ref|unadvertised object", re.IGNORECASE)
_FATAL = re.compile(r"^(fatal|error): *(.*)$", re.IGNORECASE)


def explain_fetch(lines: Sequence[str], *, url: str, ref: str | None, returncode: int) -> str:
    """The sentence for a failed ``git clone`` or ``git fetch`` of ``url`` at ``ref``."""
    text = "\n".join(lines)
    if ref is not None and _MISSING_BRANCH.search(text):
        return f"ref {ref} does not exist in the repository"
    if ref is not None and _MISSING_COMMIT.search(text):
        return (
            f"commit {ref} could not be fetched: it is not in the repository, "
            "or the server does not allow fetching a commit by its sha"
        )
    for pattern, reason in _REASONS:
        match = pattern.search(text)
        if match is not None:
            return f"git could not fetch {url}: {reason.format(*match.groups())}"
    return f"git could not fetch {url}: {_last_fatal(lines, returncode)}"


def explain_step(action: str, lines: Sequence[str], *, returncode: int) -> str:
    """The sentence for a failed local step, e.g. ``action="check out the code"``."""
    return f"git could not {action}: {_last_fatal(lines, returncode)}"


def _last_fatal(lines: Sequence[str], returncode: int) -> str:
    for line in reversed(lines):
        match = _FATAL.match(line)
        if match is not None and match.group(2):
            message = match.group(2)
            return message if len(message) <= _MAX_QUOTED else message[: _MAX_QUOTED - 3] + "..."
    return f"git exited with code {returncode}"
