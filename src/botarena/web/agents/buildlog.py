"""What a build page shows of a log line and of a failure: text without terminal codes, and
a plain sentence on what to do for each reason a build fails."""

from __future__ import annotations

import re
from dataclasses import dataclass

from botarena.builds.failures import FailureReason

# Terminal escape sequences: CSI (colours, cursor moves), OSC (titles, links) and the short
# two-character ones; then any control character left but the tab.
_ANSI = re.compile(
    r"\x1b\[[0-?]*[ -/]*[@-~]"
    r"|\x1b\][^\x07\x1b]*(?:\x07|\x1b\\)?"
    r"|\x1b[@-Z\\-_]"
    r"|\x9b[0-?]*[ -/]*[@-~]"
)
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")

ADVICE: dict[FailureReason, str] = {
    FailureReason.FETCH_FAILED: (
        "The code could not be fetched: check that the URL and the ref are public and "
        "reachable, then submit again."
    ),
    FailureReason.DEPENDENCIES_FAILED: (
        "Installing the dependencies failed: check requirements.txt (names, versions, and "
        "that each package installs on its own), then submit again."
    ),
    FailureReason.DOCKERFILE_FAILED: (
        "The Dockerfile did not build: build it locally, fix the failing step shown in the "
        "log, then submit again."
    ),
    FailureReason.VALIDATION_FAILED: (
        "The agent crashed or timed out in its validation match: run `botarena play` "
        "locally against an example agent, fix what it reports, then submit again."
    ),
    FailureReason.TIMEOUT: (
        "The build took longer than allowed: make it lighter (fewer or smaller "
        "dependencies), then submit again."
    ),
    FailureReason.INTERNAL: (
        "This was the platform's fault, not yours: it was retried and still failed. Try "
        "Rebuild; if it fails again, tell the organisers."
    ),
}
UNKNOWN_ADVICE = "Read the log below for the cause, fix it, then submit again."


@dataclass(frozen=True)
class Failure:
    """Why a build failed, as the page says it."""

    reason: str  # a FailureReason value, or "" when the message names none
    sentence: str
    advice: str


def clean_line(line: str) -> str:
    """A log line as plain text: terminal codes and control characters removed (the
    template escapes what is left)."""
    return _CONTROL.sub("", _ANSI.sub("", line))


def failure_of(error_message: str | None) -> Failure | None:
    """The failure an ``errorMessage`` (``<reason>: <sentence>``) describes; None for none."""
    if not error_message:
        return None
    head, _, rest = error_message.partition(": ")
    try:
        reason = FailureReason(head)
    except ValueError:
        return Failure("", clean_line(error_message), UNKNOWN_ADVICE)
    return Failure(reason.value, clean_line(rest), ADVICE[reason])
