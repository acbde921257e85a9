"""What every page says at its top when the platform cannot do its work (no build backend,
no sandbox), read from what the composition root put in ``app.state``."""

from __future__ import annotations

from typing import Any, Protocol


class _Reports(Protocol):
    def unavailable_reason(self) -> str | None: ...


def platform_problems(state: Any) -> list[str]:
    """Sentences for the banner; empty when all is well. The build workers (``state.builds``)
    say why their backend cannot build: with the local backend that is the sandbox, which
    matches of this server need too."""
    found: list[str] = []
    builds: _Reports | None = getattr(state, "builds", None)
    reason = builds.unavailable_reason() if builds is not None else None
    if reason:
        found.append(
            f"Builds cannot run on this server: {reason}. New submissions wait in the queue "
            "until an administrator fixes this."
        )
    return found
