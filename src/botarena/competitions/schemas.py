"""Request and response bodies of the competitions API."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import Field

from botarena.api.schema import ISO_TIME, JSON_NUMBER, ApiModel

SLUG = r"^[a-z0-9][a-z0-9-]{0,63}$"
Limit = Annotated[int, Field(ge=1, le=1000), JSON_NUMBER]
Time = Annotated[datetime, ISO_TIME]


class CompetitionCreate(ApiModel):
    """A new competition (admins): its game and configuration, words, dates and limits."""

    game: str = Field(min_length=1, max_length=64)
    configuration: dict[str, Any] = Field(default_factory=dict)
    title: str = Field(min_length=1, max_length=200)
    slug: str | None = Field(default=None, json_schema_extra={"pattern": SLUG}, max_length=64)
    description: str = Field(default="", max_length=100_000)
    opens_at: Time
    deadline_at: Time
    final_ends_at: Time
    visibility: Literal["public", "invite"] = "public"
    daily_submission_limit: Limit | None = 5
    final_submissions_per_team: Limit = 2
    max_team_size: Limit | None = None
    team_merges: bool = True


class CompetitionUpdate(ApiModel):
    """Changes to a competition (admins); what is left out stays as it is."""

    title: str | None = Field(default=None, min_length=1, max_length=200)
    description: str | None = Field(default=None, max_length=100_000)
    configuration: dict[str, Any] | None = None
    opens_at: Time | None = None
    deadline_at: Time | None = None
    final_ends_at: Time | None = None
    visibility: Literal["public", "invite"] | None = None
    daily_submission_limit: Limit | None = None
    final_submissions_per_team: Limit | None = None
    max_team_size: Limit | None = None
    team_merges: bool | None = None
    new_join_code: bool = False  # a fresh code for an invite-only one (the old one stops)


class CompetitionOut(ApiModel):
    """A competition as its viewers see it."""

    id: str
    slug: str
    game: str
    configuration: dict[str, Any]
    title: str
    description: str
    description_html: str
    is_default: bool
    visibility: str
    phase: str
    next_date: datetime | None
    next_date_label: str | None
    opens_at: datetime | None
    deadline_at: datetime | None
    final_ends_at: datetime | None
    final_started_at: datetime | None
    final_rounds: int | None
    final_tournament_id: str | None
    frozen_at: datetime | None
    daily_submission_limit: int | None
    final_submissions_per_team: int
    max_team_size: int | None
    team_merges: bool
    is_member: bool
    created_at: datetime


class CompetitionCreated(CompetitionOut):
    """A new competition; an invite-only one's join code is shown here once, never again."""

    join_code: str | None = None


class CompetitionJoin(ApiModel):
    """Joining a competition: the join code of an invite-only one."""

    code: str | None = Field(default=None, max_length=200)


class Joined(ApiModel):
    competition_id: str
    team_id: str
