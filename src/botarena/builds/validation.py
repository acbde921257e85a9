"""What a build keeps of its validation match, for the submission's page: the summary, each
seat's outcome and log, and the replay, in one JSON file beside the build log."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

from botarena.executor.outcomes import MatchResult


def validation_summary(result: MatchResult) -> str:
    """The build log's line on the validation match, e.g. ``validation match: 12 turns in
    0.4 s; player 1 DONE, player 2 TIMEOUT (no reply in 2 s)``."""
    seats = ", ".join(
        f"player {n} {a.status.value}" + (f" ({a.reason})" if a.reason else "")
        for n, a in enumerate(result.agents, start=1)
    )
    return f"validation match: {result.turns} turns in {result.duration_ms / 1000:.1f} s; {seats}"


def keep_validation(path: Path, result: MatchResult) -> None:
    """Write the record at once or not at all (a reader never sees half a file)."""
    record: dict[str, Any] = {
        **result.summary(),
        "logs": [agent.log for agent in result.agents],
        "replay": result.replay,
    }
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_name(f".{path.name}.partial")
    partial.write_text(json.dumps(record), encoding="utf-8")
    os.replace(partial, path)


def read_validation(path: Path) -> dict[str, Any] | None:
    """The record of the newest build's validation match; None when there is none (never
    validated, or kept by a version of the platform that did not write it)."""
    try:
        record: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    except (FileNotFoundError, json.JSONDecodeError):
        return None
    return record
