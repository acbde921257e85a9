"""HTTP routes of teams; each one hands over to the team service."""

from __future__ import annotations

from fastapi import APIRouter, status

from botarena.accounts.deps import CurrentUser
from botarena.api.pagination import PageDep
from botarena.api.schema import Page
from botarena.audit.deps import AuditContext
from botarena.teams.deps import TeamServiceDep
from botarena.teams.schemas import (
    MergeAnswer,
    MergeRequest,
    TeamDetail,
    TeamJoin,
    TeamName,
    TeamOut,
    TeamWithCode,
)

router = APIRouter(tags=["teams"])


@router.post("/competitions/{competition_id}/teams", status_code=status.HTTP_201_CREATED)
def create_team(
    competition_id: str,
    body: TeamName,
    user: CurrentUser,
    service: TeamServiceDep,
    context: AuditContext,
) -> TeamWithCode:
    """Make a team in the competition, with you as its owner; its invite code is in this
    answer only. You must not be in another team there (alone in one without agents, you
    move)."""
    return TeamWithCode.of(service.create(user, competition_id, body.name, context))


@router.get("/competitions/{competition_id}/teams")
def list_teams(competition_id: str, service: TeamServiceDep, page: PageDep) -> Page[TeamOut]:
    """The competition's teams, by name (disbanded ones left out)."""
    teams, total = service.page(competition_id, page.limit, page.offset)
    return Page[TeamOut](
        items=[TeamOut.of(t) for t in teams], total=total, limit=page.limit, offset=page.offset
    )


@router.get("/teams/mine")
def my_teams(user: CurrentUser, service: TeamServiceDep) -> list[TeamOut]:
    """The teams you are in, one per competition."""
    return [TeamOut.of(t) for t in service.of_member(user)]


@router.post("/teams/join")
def join_team(
    body: TeamJoin, user: CurrentUser, service: TeamServiceDep, context: AuditContext
) -> TeamOut:
    """Join the team of an invite code (409 when it is full, or when you are in another team
    of the competition that has agents or other members)."""
    return TeamOut.of(service.join(user, body.code, context))


@router.get("/teams/{team_id}")
def get_team(team_id: str, service: TeamServiceDep) -> TeamDetail:
    """A team: its members, agents and the merge requests it has sent and received."""
    return TeamDetail.of_view(service.view(team_id))


@router.patch("/teams/{team_id}")
def rename_team(
    team_id: str, body: TeamName, user: CurrentUser, service: TeamServiceDep
) -> TeamOut:
    """Rename the team (its owner)."""
    return TeamOut.of(service.rename(user, team_id, body.name))


@router.post("/teams/{team_id}/invite-code")
def new_invite_code(team_id: str, user: CurrentUser, service: TeamServiceDep) -> TeamWithCode:
    """A new invite code for the team (members), in this answer only; the old one stops."""
    return TeamWithCode.of(service.new_invite_code(user, team_id))


@router.post("/teams/{team_id}/leave")
def leave_team(
    team_id: str, user: CurrentUser, service: TeamServiceDep, context: AuditContext
) -> TeamOut | None:
    """Leave the team; an owner's role goes to the longest-standing member. The last member
    of a team with agents cannot leave (409); a team without agents goes with its last member
    (the answer is then null)."""
    team = service.leave(user, team_id, context)
    return TeamOut.of(team) if team is not None else None


@router.post("/teams/{team_id}/merge")
def request_merge(
    team_id: str,
    body: MergeRequest,
    user: CurrentUser,
    service: TeamServiceDep,
    context: AuditContext,
) -> TeamDetail:
    """Ask to merge this team into another (its owner); the other team's owner accepts or
    declines. Only where the competition allows merges, before its deadline, and within its
    team size."""
    service.request_merge(user, team_id, body.into, context)
    return TeamDetail.of_view(service.view(team_id))


@router.post("/teams/{team_id}/merge-requests/{from_team_id}")
def answer_merge(
    team_id: str,
    from_team_id: str,
    body: MergeAnswer,
    user: CurrentUser,
    service: TeamServiceDep,
    context: AuditContext,
) -> TeamDetail:
    """Accept or decline a team's request to merge into this one (its owner): accepted, the
    other team's members and agents move here and that team goes."""
    service.answer_merge(user, team_id, from_team_id, body.accept, context)
    return TeamDetail.of_view(service.view(team_id))


@router.delete("/teams/{team_id}")
def disband_team(
    team_id: str, user: CurrentUser, service: TeamServiceDep, context: AuditContext
) -> TeamOut:
    """Disband a team (admins): its members are removed and its agents stop playing (their
    submissions are kept, inactive); the team stays, marked disbanded."""
    return TeamOut.of(service.disband(user, team_id, context))
