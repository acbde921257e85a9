"""What ``botarena play`` does with the agents' logs: shown after the match, in its JSON and
replay, and written to a folder, one file per seat.

The logs arrive already bounded by the referee as on the platform (64 KiB, head and tail kept,
see :mod:`botarena.executor.logbuffer`).
"""

from __future__ import annotations

import contextlib
import os
import tempfile
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from botarena.cli.output import console, fail

NOTHING_PRINTED = "(nothing printed)"


def log_file_name(player: int) -> str:
    """The file of a seat's log, named as the platform names it beside a match's replay."""
    return f"player-{player}.log"


def ready_log_dir(folder: Path) -> Path:
    """``folder`` created if missing and proven writable, before any match is played; a
    clear error (and nothing written) otherwise."""
    if folder.exists() and not folder.is_dir():
        fail(f"--logs {folder}: it is a file, not a folder", "Name a folder (it is created).")
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        fail(f"--logs {folder}: the folder cannot be created: {exc.strerror or exc}")
    try:
        # Creating a file is the only sure test: permissions lie to root and on some mounts.
        with tempfile.NamedTemporaryFile(dir=folder, prefix=".botarena-probe-"):
            pass
    except OSError as exc:
        fail(f"--logs {folder}: cannot write into this folder: {exc.strerror or exc}")
    return folder


def write_logs(folder: Path, logs: Sequence[str]) -> list[Path]:
    """One file per seat, each complete or absent: every log is written to a temporary file
    first, and only once all are written do they take their names."""
    pending: list[tuple[Path, Path]] = []
    try:
        for player, text in enumerate(logs):
            handle, name = tempfile.mkstemp(dir=folder, prefix=f".player-{player}-")
            pending.append((Path(name), folder / log_file_name(player)))
            with os.fdopen(handle, "w", encoding="utf-8") as stream:
                stream.write(text)
        for temporary, final in pending:
            os.replace(temporary, final)
    except OSError as exc:
        for temporary, _final in pending:
            with contextlib.suppress(OSError):
                temporary.unlink()
        fail(f"--logs {folder}: the logs could not be written: {exc.strerror or exc}")
    return [final for _temporary, final in pending]


def with_logs(agents: list[dict[str, Any]], logs: Sequence[str]) -> list[dict[str, Any]]:
    """Each agent's JSON (as in ``--json`` and the replay) with its ``log``."""
    return [{**agent, "log": log} for agent, log in zip(agents, logs, strict=True)]


def show_logs(labels: Sequence[str], logs: Sequence[str]) -> None:
    """Each seat's log under a heading naming the seat, as the agent printed it."""
    for player, (label, text) in enumerate(zip(labels, logs, strict=True)):
        console.print(f"--- player {player} ({label}) log ---", highlight=False, markup=False)
        # The agent's text, not markup: brackets and escape-like sequences stay as printed.
        body = text.removesuffix("\n") if text else NOTHING_PRINTED
        console.print(body, highlight=False, markup=False, emoji=False)
