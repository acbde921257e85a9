"""Why a build failed: a typed reason, one human sentence, and whose fault it was."""

from __future__ import annotations

from enum import StrEnum


class FailureReason(StrEnum):
    """The reasons a build can fail; ``errorMessage`` is ``<reason>: <sentence>``."""

    FETCH_FAILED = "fetch_failed"
    DEPENDENCIES_FAILED = "dependencies_failed"
    DOCKERFILE_FAILED = "dockerfile_failed"
    VALIDATION_FAILED = "validation_failed"
    TIMEOUT = "timeout"
    INTERNAL = "internal"


class BuildFailure(Exception):  # noqa: N818 - a failure of the build, not a program error
    """A build that cannot succeed as it is.

    ``platform_fault`` marks our own failures (a crashed builder, an engine that died, a
    platform step that timed out): those are retried with backoff and never charged to the
    participant. Everything else is the participant's to fix and is not retried.
    """

    def __init__(
        self, reason: FailureReason, sentence: str, *, platform_fault: bool = False
    ) -> None:
        super().__init__(sentence)
        self.reason = reason
        self.sentence = sentence
        self.platform_fault = platform_fault

    @property
    def error_message(self) -> str:
        return f"{self.reason.value}: {self.sentence}"


class BackendUnavailable(Exception):  # noqa: N818 - a state of the backend
    """The builder cannot be reached right now (say, the Docker engine is down).

    Waiting for it never fails a submission and uses no retry: the build stays queued.
    """
