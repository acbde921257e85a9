"""The public pages: the front page and each game's leaderboard, and their live streams."""

from __future__ import annotations

from collections.abc import Collection
from functools import partial
from typing import Annotated

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse, StreamingResponse
from starlette.concurrency import run_in_threadpool

from botarena.api.deps import SessionDep, SettingsDep
from botarena.builds.feed import TOPIC_PREFIX as SUBMISSION_TOPICS
from botarena.db.engine import SessionFactory
from botarena.matches.events import TOPIC_PREFIX as MATCH_TOPICS
from botarena.ratings.events import TOPIC_PREFIX as LEADERBOARD_TOPICS
from botarena.ratings.events import leaderboard_topic
from botarena.settings import Settings
from botarena.web import views
from botarena.web.deps import TemplatesDep, Viewer, respond
from botarena.web.live import Render, Watch, block_events, status_only
from botarena.web.renders import SharedRenders
from botarena.web.templating import Templates

router = APIRouter()

SortQuery = Annotated[str, Query(max_length=16)]
PageQuery = Annotated[int, Query(ge=1, le=1_000_000)]


@router.get("/", response_class=HTMLResponse)
def home(
    request: Request, session: SessionDep, settings: SettingsDep, pages: TemplatesDep, user: Viewer
) -> HTMLResponse:
    """Each game's top of the leaderboard, the latest matches, the queues."""
    context = {
        "counters": views.counters(session, settings),
        "tops": views.tops(session),
        "recent": views.recent_matches(session, settings),
    }
    return respond(request, pages, user, "home.html", context)


@router.get("/games/{game}", response_class=HTMLResponse)
def leaderboard(
    game: str,
    request: Request,
    session: SessionDep,
    pages: TemplatesDep,
    user: Viewer,
    sort: SortQuery = "rank",
    page: PageQuery = 1,
) -> HTMLResponse:
    """A game's leaderboard, sorted by a column and paged; htmx gets the board alone."""
    context = {"board": views.board(session, game, sort, page)}
    return respond(request, pages, user, "leaderboard.html", context, block="board")


@router.get("/live/home")
async def home_live(request: Request) -> StreamingResponse:
    """The front page's counters, leaderboards and latest matches, as they change."""
    state = request.app.state
    settings: Settings = state.settings
    factory: SessionFactory = state.read_session_factory
    pages: Templates = state.web_templates
    renders: SharedRenders = state.web_renders

    def render_one(block: str) -> str:
        with factory() as session:
            context = {
                "counters": views.counters(session, settings) if block == "counters" else None,
                "tops": views.tops(session) if block == "tops" else [],
                "recent": views.recent_matches(session, settings) if block == "recent" else [],
            }
            return pages.block("home.html", block, context)

    def render(blocks: Collection[str], since: float) -> dict[str, str]:
        return {b: renders.get(("home", b), since, partial(render_one, b)) for b in blocks}

    watches = [
        Watch(SUBMISSION_TOPICS, ("counters",), prefix=True, only=status_only),
        Watch(MATCH_TOPICS, ("counters", "recent"), prefix=True),
        Watch(LEADERBOARD_TOPICS, ("tops",), prefix=True),
    ]
    return _stream(request, watches, render)


@router.get("/live/games/{game}")
async def leaderboard_live(
    game: str, request: Request, sort: SortQuery = "rank", page: PageQuery = 1
) -> StreamingResponse:
    """One page of a leaderboard, sent again whenever a rating of the game changes."""
    state = request.app.state
    factory: SessionFactory = state.read_session_factory
    pages: Templates = state.web_templates
    renders: SharedRenders = state.web_renders

    def render_board() -> str:
        with factory() as session:
            context = {"board": views.board(session, game, sort, page)}
            return pages.block("leaderboard.html", "board_body", context)

    def render(blocks: Collection[str], since: float) -> dict[str, str]:
        key = ("board", game, sort, page)
        return {name: renders.get(key, since, render_board) for name in blocks}

    def check() -> None:
        with factory() as session:
            views.board(session, game, sort, page)  # an unknown game is a 404 before streaming

    await run_in_threadpool(check)
    return _stream(request, [Watch(leaderboard_topic(game), ("board_body",))], render)


def _stream(request: Request, watches: list[Watch], render: Render) -> StreamingResponse:
    resumed = bool(request.headers.get("last-event-id"))
    events = block_events(
        request.app.state.events, watches, render, request.receive, resumed=resumed
    )
    return StreamingResponse(
        events,
        media_type="text/event-stream",
        headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"},
    )
