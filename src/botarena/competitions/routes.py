"""HTTP routes of competitions; each one hands over to the service."""

from __future__ import annotations

from fastapi import APIRouter, status

from botarena.accounts.deps import CurrentUser, OptionalUser
from botarena.api.deps import SessionDep
from botarena.audit.deps import AuditContext
from botarena.competitions.deps import MembershipDep
from botarena.competitions.presenters import present, present_created
from botarena.competitions.schemas import (
    CompetitionCreate,
    CompetitionCreated,
    CompetitionJoin,
    CompetitionOut,
    CompetitionUpdate,
    Joined,
)
from botarena.competitions.service import CompetitionService, CompetitionSpec

router = APIRouter(tags=["competitions"])


@router.post("/competitions", status_code=status.HTTP_201_CREATED)
def create_competition(
    body: CompetitionCreate, user: CurrentUser, session: SessionDep, context: AuditContext
) -> CompetitionCreated:
    """Create a competition (admins). An invite-only one's join code is in this answer only."""
    made = CompetitionService(session).create(user, CompetitionSpec(**body.model_dump()), context)
    return present_created(made.competition, False, made.join_code)


@router.get("/competitions")
def list_competitions(
    session: SessionDep, viewer: OptionalUser, membership: MembershipDep
) -> list[CompetitionOut]:
    """Public competitions, and the invite-only ones the caller is in (admins: every one)."""
    mine = membership.competitions_of(viewer.id) if viewer is not None else set()
    listed = CompetitionService(session).listed(viewer, membership)
    return [present(c, c.id in mine) for c in listed]


@router.get("/competitions/{ref}")
def get_competition(
    ref: str, session: SessionDep, viewer: OptionalUser, membership: MembershipDep
) -> CompetitionOut:
    """One competition, by id or slug."""
    competition = CompetitionService(session).get(ref)
    mine = membership.competitions_of(viewer.id) if viewer is not None else set()
    return present(competition, competition.id in mine)


@router.patch("/competitions/{ref}")
def update_competition(
    ref: str,
    body: CompetitionUpdate,
    user: CurrentUser,
    session: SessionDep,
    context: AuditContext,
) -> CompetitionCreated:
    """Change a competition (admins); what its phase no longer allows is refused. A new
    join code (``newJoinCode``) is in this answer only."""
    changed = CompetitionService(session).update(
        user, ref, body.model_dump(exclude_unset=True), context
    )
    return present_created(changed.competition, False, changed.join_code)


@router.post("/competitions/{ref}/join")
def join_competition(
    ref: str,
    body: CompetitionJoin,
    user: CurrentUser,
    session: SessionDep,
    membership: MembershipDep,
) -> Joined:
    """Take part in a competition (an invite-only one needs its join code): the caller's
    team there, a one-person team when they have none."""
    service = CompetitionService(session)
    team_id = service.join(user, ref, body.code, membership)
    return Joined(competition_id=service.get(ref).id, team_id=team_id)
