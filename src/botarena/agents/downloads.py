"""A submission's source as one archive, for those who may download it (``botarena rerun``).

An uploaded archive is handed back as it was stored, byte for byte (its SHA-256 is the
submission's ``archiveSha256``, so the caller can check it). A Git submission is fetched again
at the commit its build pinned, with the same checks as a build's fetch, and packed the way
``botarena submit FOLDER`` packs a folder. Built artifacts are not handed out: a local build's
folder holds an environment made for the server's Python, and an image lives on the server's
engine or its registry; the source is what every machine can build again.
"""

from __future__ import annotations

import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path

from botarena.agents.models import Submission
from botarena.errors import AppError, conflict, not_found
from botarena.settings import Settings
from botarena.sources.archives import pack_folder
from botarena.sources.git import FetchError, FetchLimits, fetch_git
from botarena.storage import archive_path

MEDIA_TYPES = {"zip": "application/zip", "tar.gz": "application/gzip"}


@dataclass(frozen=True)
class SourceFile:
    """An archive of a submission's source on disk; ``scratch`` (when set) is a temporary
    folder holding it, removed by :meth:`discard` once the file was sent."""

    path: Path
    filename: str
    media_type: str
    scratch: Path | None = None

    def discard(self) -> None:
        if self.scratch is not None:
            shutil.rmtree(self.scratch, ignore_errors=True)


def source_file(settings: Settings, submission: Submission) -> SourceFile:
    """The submission's source as an archive (see the module's docstring); 404 when the
    stored archive is gone, 409 when a Git submission has no pinned commit yet, 502 when the
    repository cannot be fetched again."""
    name = f"{submission.id}-source"
    if submission.archive_sha256 and submission.archive_format:
        path = archive_path(settings, submission.archive_sha256, submission.archive_format)
        if not path.is_file():
            raise not_found(f"Submission {submission.id}'s archive is no longer stored")
        fmt = submission.archive_format
        return SourceFile(path, f"{name}.{fmt}", MEDIA_TYPES.get(fmt, "application/octet-stream"))
    if submission.code_url:
        if not submission.commit_sha:
            raise conflict(
                f"Submission {submission.id} has no pinned commit yet",
                "Its build has not fetched the code; wait until it has built.",
            )
        return _packed_commit(settings, submission.id, submission.code_url, submission.commit_sha)
    raise not_found(f"Submission {submission.id} has no source")


def _packed_commit(
    settings: Settings, submission_id: str, code_url: str, commit_sha: str
) -> SourceFile:
    scratch = Path(tempfile.mkdtemp(prefix="botarena-source-"))
    try:
        fetched = fetch_git(
            code_url,
            commit_sha,
            scratch / "src",
            allow_http=settings.git_allow_http,
            allow_hosts=settings.git_allow_hosts,
            limits=FetchLimits(),
        )
        packed = scratch / f"{submission_id}-source.tar.gz"
        with packed.open("wb") as out:
            pack_folder(fetched.path, out)
    except FetchError as exc:
        shutil.rmtree(scratch, ignore_errors=True)
        raise AppError(
            f"The repository of submission {submission_id} could not be fetched again",
            str(exc),
            [],
            502,
        ) from exc
    except BaseException:
        shutil.rmtree(scratch, ignore_errors=True)
        raise
    return SourceFile(packed, packed.name, MEDIA_TYPES["tar.gz"], scratch)
