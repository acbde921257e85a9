"""Request and response bodies of the builds API: status, log and queue priority."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from pydantic import Field

from botarena.api.schema import JSON_NUMBER, ApiModel
from botarena.builds.commands import MAX_PRIORITY


class PriorityChange(ApiModel):
    """A new queue priority: higher builds first."""

    priority: Annotated[int, Field(ge=-MAX_PRIORITY, le=MAX_PRIORITY), JSON_NUMBER]


class StatusChange(ApiModel):
    """One status a submission entered, and when."""

    status: str
    at: datetime


class BuildStatus(ApiModel):
    """Where a submission's build stands."""

    submission_id: str
    status: str
    build_job_name: str | None
    build_pod_name: str | None = Field(
        description=(
            "The pod the build runs in, for a backend that builds in pods (Kubernetes); "
            "null on the local and docker backends, and until such a backend started one."
        )
    )
    docker_image_url: str | None
    error_message: str | None
    warnings: list[str]
    queue_position: int | None
    status_history: list[StatusChange]
    created_at: datetime
    updated_at: datetime


class BuildLogs(ApiModel):
    """The build log as far as it exists."""

    submission_id: str
    status: str
    build_log: str
    updated_at: datetime
