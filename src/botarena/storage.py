"""Where things live under the data folder, and reading the end of a log file."""

from __future__ import annotations

from pathlib import Path

from botarena.settings import Settings

STORED_LOG_BYTES = 1024 * 1024
CUT_MARKER = "[… the beginning of this log was cut: only the last 1 MiB is kept …]\n"


def build_log_path(settings: Settings, submission_id: str) -> Path:
    """Where a submission's build log is written while it builds."""
    return settings.data_dir / "builds" / submission_id / "build.log"


def match_dir(settings: Settings, match_id: str) -> Path:
    """Where a match's replay (``replay.json``) and its agents' logs (``player-N.log``) are."""
    return settings.data_dir / "matches" / match_id


def archive_path(settings: Settings, sha256: str, fmt: str) -> Path:
    """Where an uploaded archive is stored, by its content."""
    return settings.archive_dir / sha256[:2] / f"{sha256}.{fmt}"


def read_tail(path: Path, limit: int = STORED_LOG_BYTES) -> str | None:
    """The last ``limit`` bytes of a log file (with the cut marker), or None without a file."""
    try:
        with path.open("rb") as handle:
            handle.seek(0, 2)
            size = handle.tell()
            handle.seek(max(0, size - limit))
            data = handle.read()
    except FileNotFoundError:
        return None
    text = data.decode("utf-8", errors="replace")
    if size > limit:
        # Start at a line boundary so the first line is whole.
        newline = text.find("\n")
        text = CUT_MARKER + (text[newline + 1 :] if newline >= 0 else text)
    return text
