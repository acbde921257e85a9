"""Artifact folders: one per build attempt, never changed, held while played, removed once
retired and free.

A build attempt writes ``artifacts/{submissionId}/{buildId}/code`` and nothing else ever
writes there again; a rebuild makes a new ``{buildId}``. Beside ``code`` lies ``hold``, a lock
file: whoever plays the artifact (a match on an executor, a build's validation match) holds a
shared ``flock`` on it for as long as it plays. Retiring an attempt (its submission has a newer
artifact, or the attempt failed) leaves a ``retired`` marker and removes the folder at once if
nobody holds it; otherwise the last holder removes it when it lets go. Removal takes the lock
exclusively and first renames the folder out of the way, so a player that opened ``hold`` just
before finds it gone once it has the lock, and is refused rather than given a half-deleted
folder. A lock dies with its process, so a crashed player never pins an artifact.

Build ids sort by the time they were made: ``{UTC time}-{random}``.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import secrets
import shutil
from pathlib import Path

import structlog

from botarena.clock import utcnow

log = structlog.get_logger(__name__)

CODE = "code"
HOLD = "hold"
RETIRED = "retired"
_REMOVING = ".removing-"


class ArtifactGoneError(FileNotFoundError):
    """The artifact was retired and removed before it could be held."""


def new_build_id() -> str:
    """A fresh build id, later ones sorting after earlier ones (``20260101T120000123456-ab12cd``);
    fit for a folder name and an image tag."""
    return f"{utcnow().strftime('%Y%m%dT%H%M%S%f')}-{secrets.token_hex(3)}"


def make_attempt(submission_dir: Path, build_id: str) -> Path:
    """A new, empty attempt folder with its ``hold``; returns where its code goes."""
    attempt = submission_dir / build_id
    attempt.mkdir(parents=True)
    (attempt / HOLD).touch()
    return attempt / CODE


def attempts(submission_dir: Path) -> list[Path]:
    """The attempt folders of one submission, oldest first (folders of the earlier layout,
    without a ``hold``, are not among them)."""
    if not submission_dir.is_dir():
        return []
    found = [
        path
        for path in submission_dir.iterdir()
        if not path.name.startswith(_REMOVING) and (path / HOLD).is_file()
    ]
    return sorted(found, key=lambda path: path.name)


class Hold:
    """A shared hold on one artifact folder while it is played; a no-op for folders that are
    not attempt folders (the earlier layout, a participant's own folder)."""

    def __init__(self, code_dir: Path) -> None:
        self.code_dir = code_dir
        self._fd: int | None = None

    def take(self) -> Hold:
        """Hold the artifact; raises ArtifactGoneError when it was removed meanwhile."""
        hold = self.code_dir.parent / HOLD
        if self.code_dir.name != CODE or (self.code_dir.is_dir() and not hold.exists()):
            return self  # not an attempt folder: nothing retires it
        try:
            fd = os.open(hold, os.O_RDONLY | os.O_CLOEXEC)
        except FileNotFoundError as exc:
            raise ArtifactGoneError(f"{self.code_dir} was replaced by a newer build") from exc
        fcntl.flock(fd, fcntl.LOCK_SH)
        try:
            same = os.stat(hold).st_ino == os.fstat(fd).st_ino and self.code_dir.is_dir()
        except FileNotFoundError:
            same = False
        if not same:
            os.close(fd)
            raise ArtifactGoneError(f"{self.code_dir} was replaced by a newer build")
        self._fd = fd
        return self

    def release(self) -> None:
        """Let go; the last holder of a retired artifact removes it. Safe to call again."""
        fd, self._fd = self._fd, None
        if fd is None:
            return
        os.close(fd)  # closing the last descriptor drops the lock
        attempt = self.code_dir.parent
        if (attempt / RETIRED).exists():
            remove_if_free(attempt)

    def __enter__(self) -> Hold:
        return self.take()

    def __exit__(self, *exc_info: object) -> None:
        self.release()


def retire(attempt: Path) -> bool:
    """Mark an attempt retired and remove it unless held; True when it is gone now."""
    try:
        (attempt / RETIRED).touch()
    except FileNotFoundError:
        return True
    return remove_if_free(attempt)


def remove_if_free(attempt: Path) -> bool:
    """Remove an attempt folder that nobody holds; False (and nothing done) when held."""
    try:
        fd = os.open(attempt / HOLD, os.O_RDONLY | os.O_CLOEXEC)
    except FileNotFoundError:
        return True
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            return False
        doomed = attempt.with_name(f"{_REMOVING}{attempt.name}-{secrets.token_hex(3)}")
        try:
            attempt.rename(doomed)
        except FileNotFoundError:
            return True  # another remover was first
    finally:
        os.close(fd)
    shutil.rmtree(doomed, ignore_errors=True)
    with contextlib.suppress(OSError):
        attempt.parent.rmdir()  # the submission's folder, when that was its last attempt
    log.info("artifact removed", artifact=str(attempt))
    return True
