"""A submission's build generations: each rebuild starts a fresh build log, the earlier kept.

A submission's build-log folder holds ``build.log`` (the newest build's, which every attempt
of that build appends to), ``build.N.log`` (the logs of earlier builds, from 1) and the marker
``generation``: the newest build's number and the id of the status row that began it (0 for
the first build, which no rebuild began). A rebuild begins its generation inside its own
transaction, after the flush that gives its status row an id and before the commit, while the
transaction holds the submission's row (:meth:`botarena.builds.commands.BuildCommands.rebuild`):
no worker can claim the build meanwhile, every reader that sees the rebuild's status finds the
fresh log, and a failed commit undoes the rotation. A live stream whose cursor is older than
the row that began the current log reads that log from its start.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from botarena.builds.log import BuildLog
from botarena.settings import Settings
from botarena.storage import build_log_path, earlier_build_log_path

MARKER = "generation"


@dataclass(frozen=True)
class Generation:
    """Which build of a submission ``build.log`` holds, and the status row that began it."""

    number: int = 1
    began_with: int = 0


def marker_path(settings: Settings, submission_id: str) -> Path:
    return build_log_path(settings, submission_id).with_name(MARKER)


def current(settings: Settings, submission_id: str) -> Generation:
    """The generation ``build.log`` belongs to: the first one without a marker."""
    return _parse(_read(marker_path(settings, submission_id)))


def _read(path: Path) -> str | None:
    try:
        return path.read_text()
    except FileNotFoundError:
        return None


def _parse(text: str | None) -> Generation:
    fields = (text or "").split()
    try:
        # A marker of an earlier release holds the number alone.
        return Generation(int(fields[0]), int(fields[1]) if len(fields) > 1 else 0)
    except (IndexError, ValueError):
        return Generation()


@dataclass(frozen=True)
class Rotation:
    """What :func:`begin` changed, to put back when the rebuild's commit fails."""

    log: Path
    kept: Path | None
    marker: Path
    previous_marker: str | None

    def undo(self) -> None:
        if self.kept is not None:
            os.replace(self.kept, self.log)
        else:
            self.log.unlink(missing_ok=True)
        if self.previous_marker is None:
            self.marker.unlink(missing_ok=True)
        else:
            _write(self.marker, self.previous_marker)


def begin(settings: Settings, submission_id: str, status_id: int) -> Rotation:
    """Start the next generation, begun by status row ``status_id``: the newest log is kept
    as ``build.N.log`` and a fresh ``build.log`` says which build it is."""
    log = build_log_path(settings, submission_id)
    marker = marker_path(settings, submission_id)
    log.parent.mkdir(parents=True, exist_ok=True)
    previous_marker = _read(marker)
    was = _parse(previous_marker)
    number = was.number + 1
    # The marker first: a reader that does not see the rebuild's row yet but finds the new
    # marker reads the kept log of the build it sees.
    _write(marker, f"{number} {status_id}\n")
    rotation = Rotation(log, None, marker, previous_marker)
    try:
        kept = earlier_build_log_path(settings, submission_id, was.number)
        try:
            log.rename(kept)
            rotation = Rotation(log, kept, marker, previous_marker)
        except FileNotFoundError:  # that build never wrote a log
            pass
        fresh = BuildLog(log)  # no notice: nobody may read this log before the commit
        try:
            kept_note = f"; the log of build {was.number} is kept" if rotation.kept else ""
            fresh.step(f"build {number} (a rebuild{kept_note})")
        finally:
            fresh.close()
    except BaseException:
        rotation.undo()
        raise
    return rotation


def _write(path: Path, text: str) -> None:
    """Replace ``path`` whole, so a reader never finds it half written."""
    partial = path.with_name(f".{path.name}.new")
    partial.write_text(text)
    os.replace(partial, path)
