"""What this server cannot do right now, and why, in sentences a person can act on.

``botarena serve`` prints these in its banner and logs each as a warning; the web pages show
them on every page. Builds need their backend (bubblewrap for ``local``, a reachable engine
for ``docker``); matches played by the embedded executor need the bubblewrap sandbox for the
agents the ``local`` backend builds. Remote executors are asked nothing here: they say for
themselves.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

from botarena.executor.sandbox import probe_isolation
from botarena.settings import Settings


class Builds(Protocol):
    """What is asked of the running build workers: the backend's reason, if any, asked now or
    as they last found it."""

    def unavailable_reason(self) -> str | None: ...

    @property
    def last_unavailable_reason(self) -> str | None: ...


@dataclass(frozen=True)
class Unavailable:
    """One part of the platform that cannot run (``builds`` or ``matches``) and why."""

    part: str
    reason: str

    def sentence(self) -> str:
        waits = "submissions wait" if self.part == "builds" else "matches wait"
        return f"{self.part} cannot run ({waits}): {self.reason}"


def unavailable(
    settings: Settings, builds: Builds | None, *, ask: bool = True
) -> list[Unavailable]:
    """Each enabled part of this server that cannot run now, with the reason. ``ask`` False
    takes what the build workers last found instead of asking the backend (for pages, where a
    call to the container engine per request would cost too much); the sandbox probe runs
    once per process either way."""
    found = []
    if builds is not None:
        reason = builds.unavailable_reason() if ask else builds.last_unavailable_reason
        if reason:
            found.append(Unavailable("builds", reason))
    if settings.matches_enabled and not settings.executors and settings.build_backend == "local":
        reason = probe_isolation().unavailable_reason()
        if reason:
            found.append(Unavailable("matches", reason))
    return found
