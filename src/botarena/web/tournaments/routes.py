"""The list of tournaments with its filters, a tournament's page, and its progress live."""

from __future__ import annotations

from collections.abc import Collection
from functools import partial
from typing import Annotated

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse, StreamingResponse
from starlette.concurrency import run_in_threadpool

from botarena.api.deps import SessionDep, SettingsDep
from botarena.db.engine import SessionFactory
from botarena.events import Notice
from botarena.matches.events import TOPIC_PREFIX as MATCH_TOPICS
from botarena.settings import Settings
from botarena.tournaments.events import tournament_topic
from botarena.web.deps import TemplatesDep, Viewer, respond
from botarena.web.live import Watch, block_events
from botarena.web.renders import SharedRenders
from botarena.web.templating import Templates
from botarena.web.tournaments import views

router = APIRouter()

Filter = Annotated[str, Query(max_length=64)]
PageQuery = Annotated[int, Query(ge=1, le=1_000_000)]
# The blocks of a tournament's page that change while it runs.
LIVE_BLOCKS = ("progress", "standings", "bracket", "rounds")
NO_BRACKET = tuple(block for block in LIVE_BLOCKS if block != "bracket")


@router.get("/tournaments", response_class=HTMLResponse)
def tournaments(
    request: Request,
    session: SessionDep,
    settings: SettingsDep,
    pages: TemplatesDep,
    user: Viewer,
    game: Filter = "",
    status: Filter = "",
    page: PageQuery = 1,
) -> HTMLResponse:
    """Tournaments newest first, filtered by game and status; htmx gets the table."""
    filters = views.Filters(game, status)
    context = {"listing": views.tournament_list(session, settings, filters, page)}
    return respond(request, pages, user, "tournaments.html", context, block="listing")


@router.get("/tournaments/{tournament_id}", response_class=HTMLResponse)
def tournament(
    tournament_id: str,
    request: Request,
    session: SessionDep,
    settings: SettingsDep,
    pages: TemplatesDep,
    user: Viewer,
) -> HTMLResponse:
    """Standings in tie-break order, rounds with their matches, the bracket if any."""
    context = {"page": views.tournament_page(session, settings, tournament_id)}
    return respond(request, pages, user, "tournament.html", context, block="standings")


@router.get("/live/tournaments/{tournament_id}")
async def tournament_live(tournament_id: str, request: Request) -> StreamingResponse:
    """The page's changing blocks, sent again when the tournament moves on.

    ``tournament:<id>`` fires when the director decides a game, draws a round or ends the
    tournament (standings, bracket and rounds change only then); the ``match:<id>`` topics of
    its matches move the rounds' match badges (queued, running) in between. The matches
    watched are those of the latest render, so a new round's matches join as it is drawn.
    """
    state = request.app.state
    settings: Settings = state.settings
    factory: SessionFactory = state.read_session_factory
    pages: Templates = state.web_templates
    renders: SharedRenders = state.web_renders

    def check() -> views.TournamentPage:
        with factory() as session:  # an unknown tournament is a 404 before streaming
            return views.tournament_page(session, settings, tournament_id)

    first = await run_in_threadpool(check)
    matches = first.match_ids
    live_blocks = LIVE_BLOCKS if first.bracket is not None else NO_BRACKET

    def ours(notice: Notice) -> bool:
        return notice.topic.removeprefix(MATCH_TOPICS) in matches

    def render(blocks: Collection[str], since: float) -> dict[str, str]:
        nonlocal matches
        read: list[views.TournamentPage] = []

        def make(block: str) -> str:
            if not read:
                read.append(views.tournament_page(session, settings, tournament_id))
            return pages.block("tournament.html", block, {"page": read[0]})

        with factory() as session:
            fragments = {
                b: renders.get(("tournament", tournament_id, b), since, partial(make, b))
                for b in blocks
            }
        if read:
            matches = read[0].match_ids
        return fragments

    watches = [
        Watch(tournament_topic(tournament_id), live_blocks),
        Watch(MATCH_TOPICS, ("progress", "rounds"), prefix=True, only=ours),
    ]
    resumed = bool(request.headers.get("last-event-id"))
    events = block_events(state.events, watches, render, request.receive, resumed=resumed)
    return StreamingResponse(
        events,
        media_type="text/event-stream",
        headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"},
    )
