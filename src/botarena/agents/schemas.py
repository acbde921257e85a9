"""Request and response bodies of the agents and submissions API."""

from __future__ import annotations

from datetime import datetime

from pydantic import ConfigDict, Field

from botarena.api.schema import ApiModel

# What an agent's name may be; the service says so in its own words when it is not.
AGENT_NAME = r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$"


class AgentCreate(ApiModel):
    """A new agent: its unique name, and the game it plays or the competition it plays in
    (by id or slug; without one, the game's default competition)."""

    # The description says what the rules refuse: neither a game nor a competition.
    model_config = ConfigDict(
        json_schema_extra={
            "anyOf": [
                {"required": ["game"], "properties": {"game": {"type": "string"}}},
                {
                    "required": ["competitionId"],
                    "properties": {"competitionId": {"type": "string"}},
                },
            ]
        }
    )

    name: str = Field(min_length=1, max_length=64, json_schema_extra={"pattern": AGENT_NAME})
    game: str | None = Field(default=None, min_length=1, max_length=64)
    competition_id: str | None = Field(default=None, min_length=1, max_length=64)


class AgentOut(ApiModel):
    """An agent as everyone may see it."""

    id: str
    name: str
    game: str
    competition_id: str | None
    owner_id: str  # who created it
    team_id: str | None  # the team that owns it: its members act for it
    team_name: str | None
    created_at: datetime


class SubmissionOut(ApiModel):
    """A submission as everyone may see it."""

    id: str
    agent_id: str
    version: int
    status: str
    code_url: str | None
    ref: str | None
    commit_sha: str | None
    archive_sha256: str | None
    created_at: datetime
    updated_at: datetime


class AgentDetail(AgentOut):
    """An agent with its submissions, oldest first."""

    active_submission_id: str | None
    submissions: list[SubmissionOut]


class SubmissionCreate(ApiModel):
    """A submission of code from a Git repository."""

    agent_id: str = Field(min_length=1, max_length=64)
    code_url: str = Field(min_length=1, max_length=2048)
    ref: str | None = Field(default=None, max_length=255)


class SubmissionCreated(ApiModel):
    """The answer to a new submission."""

    message: str = "Submission created successfully"
    submission: SubmissionOut
