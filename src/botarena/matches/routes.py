"""HTTP routes of matches; each one hands over to the match service."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Request, status
from fastapi.responses import FileResponse, PlainTextResponse

from botarena.accounts.deps import CurrentUser, OptionalUser
from botarena.api.deps import SessionDep, SettingsDep
from botarena.api.hooks import notify_match_queued
from botarena.api.openapi import error_answers
from botarena.api.pagination import PageDep
from botarena.api.schema import Page
from botarena.audit.deps import AuditContext, request_id
from botarena.matches.reruns import rerun_plan
from botarena.matches.schemas import MatchCreate, MatchOut, RerunOut
from botarena.matches.service import MatchService

router = APIRouter(tags=["matches"])


@router.post("/matches", status_code=status.HTTP_201_CREATED)
def create_match(
    body: MatchCreate,
    user: CurrentUser,
    session: SessionDep,
    settings: SettingsDep,
    request: Request,
) -> MatchOut:
    """Queue a match between two agents (or, for a game of more players, ``agentIds``), each
    playing its active (else newest built) code."""
    service = MatchService(session, settings)
    view = service.create(
        user,
        body.seats(),
        game=body.game,
        seed=body.seed,
        config=body.config,
        ranked=body.ranked,
        request_id=request_id(request),
    )
    notify_match_queued(request)
    return MatchOut.of(view.match, view.queue_position)


@router.get("/matches")
def list_matches(
    session: SessionDep,
    settings: SettingsDep,
    _viewer: OptionalUser,
    page: PageDep,
    agent_id: Annotated[str | None, Query(alias="agentId", max_length=32)] = None,
) -> Page[MatchOut]:
    """Matches, newest first; filter by an agent taking part."""
    matches, total = MatchService(session, settings).page(
        limit=page.limit, offset=page.offset, agent_id=agent_id
    )
    return Page[MatchOut](
        items=[MatchOut.of(m) for m in matches], total=total, limit=page.limit, offset=page.offset
    )


@router.get("/matches/{match_id}")
def get_match(
    match_id: str, session: SessionDep, settings: SettingsDep, _viewer: OptionalUser
) -> MatchOut:
    """One match, with its queue position while it waits."""
    view = MatchService(session, settings).view(match_id)
    return MatchOut.of(view.match, view.queue_position)


@router.post("/matches/{match_id}/cancel")
def cancel_match(
    match_id: str,
    user: CurrentUser,
    session: SessionDep,
    settings: SettingsDep,
    context: AuditContext,
) -> MatchOut:
    """Cancel a queued or running match (its creator or an admin): a running one is stopped
    on its executor; it changes no rating. 409 once the match has ended."""
    service = MatchService(session, settings)
    service.cancel(user, match_id, context)
    view = service.view(match_id)
    return MatchOut.of(view.match, view.queue_position)


@router.get("/matches/{match_id}/replay", response_class=FileResponse)
def get_replay(
    match_id: str, session: SessionDep, settings: SettingsDep, _viewer: OptionalUser
) -> FileResponse:
    """The match's replay (JSON): its configuration and every step."""
    path = MatchService(session, settings).replay(match_id)
    return FileResponse(path, media_type="application/json")


@router.get(
    "/matches/{match_id}/rerun",
    responses=error_answers({409: "The match has not finished: nothing to reproduce"}),
)
def get_rerun(match_id: str, user: CurrentUser, session: SessionDep) -> RerunOut:
    """What re-running a finished match takes (``botarena rerun``): seed, game, configuration
    overrides, the recorded result, and where to download each seat's code. Admins, and
    whoever may download both submissions; 409 unless the match finished."""
    return RerunOut.of(rerun_plan(session, user, match_id))


@router.get("/matches/{match_id}/logs/{player}", response_class=PlainTextResponse)
def get_agent_log(
    match_id: str, player: int, session: SessionDep, settings: SettingsDep, viewer: OptionalUser
) -> PlainTextResponse:
    """What the agent in seat ``player`` (0, 1, …) wrote to stderr: its owner and admins only."""
    return PlainTextResponse(MatchService(session, settings).agent_log(viewer, match_id, player))
