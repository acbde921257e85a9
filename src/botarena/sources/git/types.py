"""The limits of a Git fetch, its result, and the error it raises."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Literal

FetchReason = Literal["fetch_failed", "timeout"]


@dataclass(frozen=True)
class FetchLimits:
    """Bounds on one fetch; past either one, every git process of the fetch is killed."""

    timeout_seconds: float = 120.0
    """Wall-clock time for the whole fetch, all git commands together."""
    max_bytes: int = 200 * 1024 * 1024
    """Size of the destination folder, ``.git`` included, at any moment of the fetch.
    Every file and folder counts as at least 4 KiB, as on disk."""


@dataclass(frozen=True)
class FetchedSource:
    """Code fetched by :func:`botarena.sources.git.fetch_git`."""

    path: Path
    """The checked-out code, without its ``.git`` folder."""
    commit_sha: str
    """Full 40-hex sha of the commit checked out."""


class FetchError(Exception):
    """A fetch failed; ``str(error)`` is one sentence that can be shown to the participant.

    For example ``ref v9 does not exist in the repository``.
    """

    def __init__(self, reason: FetchReason, message: str, log: str = "") -> None:
        super().__init__(message)
        self.reason: FetchReason = reason
        """``"timeout"`` when the time limit was hit, ``"fetch_failed"`` for everything else."""
        self.log = log
        """The last 64 KiB of git's output, for the build log; empty when git never ran."""
