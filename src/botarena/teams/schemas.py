"""Request and response bodies of the teams API."""

from __future__ import annotations

from datetime import datetime
from urllib.parse import quote

from pydantic import Field

from botarena.api.schema import ApiModel
from botarena.teams.models import Team, TeamMember
from botarena.teams.service import NAME_MAX, MadeCode, TeamView

JOIN_PATH = "/teams/join"


class TeamName(ApiModel):
    """A team's name (a new team's, or a new name)."""

    name: str = Field(min_length=1, max_length=NAME_MAX)


class TeamJoin(ApiModel):
    """An invite code, as a member of the team passed it on."""

    code: str = Field(min_length=1, max_length=128)


class MergeRequest(ApiModel):
    """Ask to merge this team into another (``null`` withdraws the request)."""

    into: str | None = Field(max_length=32)


class MergeAnswer(ApiModel):
    """The other team's owner's answer."""

    accept: bool


class MemberOut(ApiModel):
    user_id: str
    username: str
    role: str
    joined_at: datetime

    @classmethod
    def of(cls, member: TeamMember) -> MemberOut:
        return cls(
            user_id=member.user_id,
            username=member.user.username,
            role=member.role,
            joined_at=member.joined_at,
        )


class TeamOut(ApiModel):
    """A team as everyone may see it."""

    id: str
    competition_id: str
    name: str
    created_at: datetime
    disbanded_at: datetime | None
    members: list[MemberOut]

    @classmethod
    def of(cls, team: Team) -> TeamOut:
        return cls(
            id=team.id,
            competition_id=team.competition_id,
            name=team.name,
            created_at=team.created_at,
            disbanded_at=team.disbanded_at,
            members=[MemberOut.of(m) for m in team.members],
        )


class TeamAgentOut(ApiModel):
    id: str
    name: str
    game: str


class MergeRequestOut(ApiModel):
    """A team asking to merge into this one."""

    team_id: str
    name: str
    members: int
    requested_at: datetime | None


class TeamDetail(TeamOut):
    """A team with its agents and merge requests."""

    agents: list[TeamAgentOut]
    merge_into: str | None
    merge_requests: list[MergeRequestOut]

    @classmethod
    def of_view(cls, view: TeamView) -> TeamDetail:
        return cls(
            **TeamOut.of(view.team).model_dump(),
            agents=[TeamAgentOut(id=a.id, name=a.name, game=a.game) for a in view.agents],
            merge_into=view.merge_into.id if view.merge_into is not None else None,
            merge_requests=[
                MergeRequestOut(
                    team_id=t.id,
                    name=t.name,
                    members=len(t.members),
                    requested_at=t.merge_requested_at,
                )
                for t in view.merge_requests
            ],
        )


class TeamWithCode(ApiModel):
    """A team and its new invite code: shown in this answer only (only a hash is kept)."""

    team: TeamOut
    invite_code: str
    invite_path: str  # the web page that joins with it, on this server

    @classmethod
    def of(cls, made: MadeCode) -> TeamWithCode:
        return cls(
            team=TeamOut.of(made.team),
            invite_code=made.code,
            invite_path=f"{JOIN_PATH}?code={quote(made.code)}",
        )
