"""Where things live under the data folder, who may read it, and reading the end of a log."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import structlog

from botarena.settings import Settings

# What the server writes is its user's alone: the database, archives, artifacts and logs hold
# password hashes, participants' code and their builds' output.
PRIVATE_UMASK = 0o077
PRIVATE_DIR_MODE = 0o700

log = structlog.get_logger(__name__)

STORED_LOG_BYTES = 1024 * 1024
CUT_MARKER = "[… the beginning of this log was cut: only the last 1 MiB is kept …]\n"


def keep_files_private() -> None:
    """Files and folders this process creates from now on are readable by its user only.

    Set by the commands that run the platform, never on import: a library must not change its
    host's umask. A sandbox still reads what it is given, since its user maps to ours.
    """
    os.umask(PRIVATE_UMASK)


def private_data_dir(settings: Settings) -> Path:
    """The data folder, created mode 0700, or narrowed to it when it was made more open."""
    folder = settings.data_dir
    folder.mkdir(mode=PRIVATE_DIR_MODE, parents=True, exist_ok=True)
    if stat.S_IMODE(folder.stat().st_mode) & 0o077:
        try:
            folder.chmod(PRIVATE_DIR_MODE)
        except OSError as exc:
            log.warning(
                "the data folder is open to other users", folder=str(folder), error=str(exc)
            )
    return folder


def build_log_path(settings: Settings, submission_id: str) -> Path:
    """Where a submission's build log is written while it builds."""
    return settings.data_dir / "builds" / submission_id / "build.log"


def validation_match_path(settings: Settings, submission_id: str) -> Path:
    """Where the newest build of a submission keeps its validation match: the summary, each
    seat's outcome and log, and the replay (``validation.json``)."""
    return build_log_path(settings, submission_id).with_name("validation.json")


def earlier_build_log_path(settings: Settings, submission_id: str, generation: int) -> Path:
    """Where the log of an earlier build of a submission is kept once it was rebuilt: its
    first build's is ``build.1.log``, and so on; ``build.log`` is always the newest build's."""
    return build_log_path(settings, submission_id).with_name(f"build.{generation}.log")


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
