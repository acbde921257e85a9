"""The list of matches with its filters, a match's page, and its status as it changes."""

from __future__ import annotations

from collections.abc import Collection
from typing import Annotated

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response, StreamingResponse
from starlette.concurrency import run_in_threadpool

from botarena.accounts.deps import client_address
from botarena.api.deps import SessionDep, SettingsDep
from botarena.audit.context import ActionContext
from botarena.audit.deps import request_id
from botarena.db.engine import SessionFactory
from botarena.errors import AppError
from botarena.matches.events import match_topic
from botarena.matches.service import MatchService
from botarena.web.deps import TemplatesDep, Viewer, respond
from botarena.web.live import Watch, block_events
from botarena.web.matches import views
from botarena.web.templating import Templates, match_url

router = APIRouter()

Filter = Annotated[str, Query(max_length=64)]
PageQuery = Annotated[int, Query(ge=1, le=1_000_000)]


@router.get("/matches", response_class=HTMLResponse)
def matches(
    request: Request,
    session: SessionDep,
    settings: SettingsDep,
    pages: TemplatesDep,
    user: Viewer,
    game: Filter = "",
    agent: Filter = "",
    status: Filter = "",
    ranked: Filter = "",
    page: PageQuery = 1,
) -> HTMLResponse:
    """Matches newest first, filtered by game, agent, status and ranked; htmx gets the table."""
    filters = views.Filters(game, agent, status, ranked)
    context = {"listing": views.match_list(session, settings, filters, page)}
    return respond(request, pages, user, "matches.html", context, block="listing")


@router.get("/matches/{match_id}", response_class=HTMLResponse)
def match(
    match_id: str,
    request: Request,
    session: SessionDep,
    settings: SettingsDep,
    pages: TemplatesDep,
    user: Viewer,
) -> HTMLResponse:
    """Players, result, outcomes, status history, the replay, and the agents' logs for their
    owners and admins; htmx gets the status block alone."""
    context = {"page": views.match_page(session, settings, user, match_id)}
    return respond(request, pages, user, "match.html", context, block="match_status")


@router.post("/matches/{match_id}/cancel", response_model=None)
def cancel(
    match_id: str,
    request: Request,
    session: SessionDep,
    settings: SettingsDep,
    pages: TemplatesDep,
    user: Viewer,
) -> Response:
    """Cancel the match (its creator or an admin), back to its page; or the page with the
    reason it was not (nothing changed)."""
    service = MatchService(session, settings)
    service.view(match_id)  # 404 first
    try:
        if user is None:
            raise AppError("Sign in first", "Only the match's creator can cancel it.", [], 401)
        context = ActionContext.of(user, client_address(request), request_id(request))
        service.cancel(user, match_id, context)
    except AppError as exc:
        session.rollback()
        message = exc.error if not exc.message else f"{exc.error}. {exc.message}"
        page = views.match_page(session, settings, user, match_id)
        context_ = {"page": page, "cancel_error": message}
        return respond(request, pages, user, "match.html", context_, status_code=exc.status_code)
    return RedirectResponse(match_url(match_id), status_code=303)


@router.get("/live/matches/{match_id}")
async def match_live(match_id: str, request: Request) -> StreamingResponse:
    """The match's status block, sent again at each of its status changes."""
    state = request.app.state
    factory: SessionFactory = state.read_session_factory
    pages: Templates = state.web_templates

    def check() -> None:
        with factory() as session:
            MatchService(session, state.settings).view(match_id)  # 404 before streaming

    def render(blocks: Collection[str], since: float) -> dict[str, str]:
        with factory() as session:
            page = views.match_page(session, state.settings, None, match_id)
            html = pages.block("match.html", "match_status", {"page": page})
        return dict.fromkeys(blocks, html)

    await run_in_threadpool(check)
    resumed = bool(request.headers.get("last-event-id"))
    watches = [Watch(match_topic(match_id), ("match_status",))]
    events = block_events(state.events, watches, render, request.receive, resumed=resumed)
    return StreamingResponse(
        events,
        media_type="text/event-stream",
        headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"},
    )
