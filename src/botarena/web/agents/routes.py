"""An agent's page, a submission's build page and its live stream, and the owner's actions
on a submission (activate, deactivate, rebuild) as forms."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Literal

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response, StreamingResponse
from markupsafe import escape
from starlette.concurrency import run_in_threadpool

from botarena.accounts.deps import client_address
from botarena.accounts.models import User
from botarena.accounts.service import AccountService
from botarena.agents.service import SubmissionService, may_read_build_log
from botarena.api.deps import SessionDep, SettingsDep
from botarena.api.hooks import notify_build_queued
from botarena.audit.context import ActionContext
from botarena.audit.deps import request_id
from botarena.builds.commands import BuildCommands
from botarena.builds.events import Cursor, build_events
from botarena.builds.feed import BuildFeeds
from botarena.db.engine import SessionFactory
from botarena.errors import AppError
from botarena.web.agents import views
from botarena.web.agents.buildlog import clean_line
from botarena.web.deps import USER_KEY, TemplatesDep, Viewer, respond
from botarena.web.live import RETRY_MS
from botarena.web.templating import Templates, agent_url

router = APIRouter()

Action = Literal["activate", "deactivate", "rebuild"]


@router.get("/agents/{agent_id}", response_class=HTMLResponse)
def agent(
    agent_id: str,
    request: Request,
    session: SessionDep,
    settings: SettingsDep,
    pages: TemplatesDep,
    user: Viewer,
) -> HTMLResponse:
    """The agent, its rating, submissions, head-to-head records and latest matches."""
    context = {
        "page": views.agent_page(session, settings, user, agent_id),
        "errors": {},
        "form": {},
    }
    return respond(request, pages, user, "agent.html", context)


@router.get("/submissions/{submission_id}", response_class=HTMLResponse)
def submission(
    submission_id: str,
    request: Request,
    session: SessionDep,
    settings: SettingsDep,
    pages: TemplatesDep,
    user: Viewer,
) -> HTMLResponse:
    """The build: status, queue position, history, warnings, failure and (for the owner and
    admins) the log; htmx gets the status block alone."""
    page = views.submission_page(session, settings, user, submission_id)
    context = {"page": page, "build": page.build}
    return respond(request, pages, user, "submission.html", context, block="build_status")


@router.post("/submissions/{submission_id}/{action}", response_model=None)
def act(
    submission_id: str,
    action: Action,
    request: Request,
    session: SessionDep,
    settings: SettingsDep,
    pages: TemplatesDep,
    user: Viewer,
) -> Response:
    """Activate, deactivate or rebuild a submission; back to its agent's page, or that page
    with the error beside the submission's buttons (nothing changed)."""
    service = SubmissionService(session, settings)
    agent_id = service.get(submission_id).agent_id  # 404 first
    try:
        if user is None:
            raise AppError("Sign in first", "Only the agent's team can change it.", [], 401)
        if action == "activate":
            service.activate(user, submission_id)
        elif action == "deactivate":
            service.deactivate(user, submission_id)
        else:
            context = ActionContext.of(user, client_address(request), request_id(request))
            BuildCommands(session, settings).rebuild(user, submission_id, context)
            notify_build_queued(request)
    except AppError as exc:
        session.rollback()
        page = views.agent_page(session, settings, user, agent_id)
        message = exc.error if not exc.message else f"{exc.error}. {exc.message}"
        context_ = {"page": page, "errors": {submission_id: message}, "form": {}}
        return respond(request, pages, user, "agent.html", context_, status_code=exc.status_code)
    return RedirectResponse(agent_url(agent_id), status_code=303)


@router.get("/live/submissions/{submission_id}")
async def submission_live(submission_id: str, request: Request) -> StreamingResponse:
    """The build as it goes: each log line (owner and admins only) appended as an ``<li>``,
    the status block again at each status, then ``done``. Event ids are the API stream's
    cursors, so ``Last-Event-ID`` (or ``after``, where the page left off) resumes it."""
    state = request.app.state
    factory: SessionFactory = state.read_session_factory
    pages: Templates = state.web_templates
    feeds: BuildFeeds = state.build_feeds
    after = Cursor.parse(request.headers.get("last-event-id") or request.query_params.get("after"))
    user_id = request.session.get(USER_KEY)
    with_log = await run_in_threadpool(_may_read_log, factory, user_id, submission_id)

    def render_status() -> str:
        with factory() as session:
            build = views.build_state(session, state.settings, submission_id)
            return pages.block("submission.html", "build_status", {"build": build})

    async def stream() -> AsyncIterator[str]:
        yield f"retry: {RETRY_MS}\n\n"
        cursor = after
        async for cursor, event in build_events(
            feeds, submission_id, with_log=with_log, after=after
        ):
            if event["type"] == "log":
                html = f"<li>{escape(clean_line(str(event['line'])))}</li>"
            else:
                html = await run_in_threadpool(render_status)
            yield _event(str(event["type"]), html, str(cursor))
        # The build is over: the page closes its stream on this (sse-close), no reconnect.
        yield _event("done", "", str(cursor))

    return StreamingResponse(
        stream(),
        media_type="text/event-stream",
        headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"},
    )


def _may_read_log(factory: SessionFactory, user_id: object, submission_id: str) -> bool:
    """Whether the session's user may read the log; 404 for no such submission."""
    with factory() as session:
        user: User | None = None
        if isinstance(user_id, str):
            user = AccountService(session).signed_in(user_id)
        return may_read_build_log(session, user, submission_id)


def _event(name: str, html: str, event_id: str) -> str:
    data = "".join(f"data: {line}\n" for line in html.splitlines() or [""])
    return f"id: {event_id}\nevent: {name}\n{data}\n"
