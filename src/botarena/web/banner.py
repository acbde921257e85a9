"""What every page says at its top when the platform cannot do its work (no build backend,
no sandbox for matches), read from what the composition root put in ``app.state``."""

from __future__ import annotations

from typing import Any

from botarena.readiness import unavailable

_WHAT_WAITS = {
    "builds": "Builds cannot run on this server",
    "matches": "Matches cannot be played on this server",
}


def platform_problems(state: Any) -> list[str]:
    """Sentences for the banner; empty when all is well. The build workers' last look at
    their backend is used (no call to an engine per page); the sandbox probe runs once per
    process."""
    return [
        f"{_WHAT_WAITS.get(problem.part, problem.part)}: {problem.reason}. Until an "
        "administrator fixes this, they wait in the queue."
        for problem in unavailable(state.settings, getattr(state, "builds", None), ask=False)
    ]
