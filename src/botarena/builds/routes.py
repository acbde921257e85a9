"""HTTP routes of builds: status and log, rebuild, priority, and the live event stream."""

from __future__ import annotations

from collections.abc import AsyncIterator

from fastapi import APIRouter, Request, WebSocket, WebSocketDisconnect
from fastapi.responses import StreamingResponse
from starlette.concurrency import run_in_threadpool

from botarena.accounts.deps import CurrentUser, OptionalUser, bearer_secret
from botarena.accounts.models import User
from botarena.accounts.service import AccountService
from botarena.accounts.tokens import TokenService
from botarena.agents.presenters import present
from botarena.agents.schemas import SubmissionOut
from botarena.agents.service import BuildSummary, SubmissionService, may_read_build_log
from botarena.api.admission import turn
from botarena.api.deps import SessionDep, SettingsDep
from botarena.api.hooks import notify_build_queued
from botarena.audit.deps import AuditContext
from botarena.builds.commands import BuildCommands
from botarena.builds.events import Cursor, as_sse, build_events
from botarena.builds.feed import BuildFeeds
from botarena.builds.schemas import BuildLogs, BuildStatus, PriorityChange, StatusChange
from botarena.db.engine import SessionFactory, session_scope
from botarena.errors import AppError
from botarena.settings import Settings

router = APIRouter(tags=["builds"])
# The status and the log were documented under "agents" before they moved here; clients that
# group operations by tag (generated ones do) find them where they always were.
status_router = APIRouter(tags=["agents"])


@status_router.get("/submissions/{submission_id}/build-status")
async def build_status(submission_id: str, request: Request) -> BuildStatus:
    """Where the build stands, with its queue position and status history."""
    # The API's most polled route, so it is written for its cost: async, no dependencies,
    # all of its blocking work (the caller's token, the reads) in one hop to a worker thread
    # while it holds a turn (botarena.api.admission), where a sync route with the session
    # and user dependencies takes six hops (each sync dependency, the session's opening and
    # its closing, the answer's check).
    secret = bearer_secret(request.headers.get("authorization"))
    state = request.app.state
    async with turn(request):
        view = await run_in_threadpool(
            _build_summary, state.status_session_factory, state.settings, secret, submission_id
        )
    return BuildStatus(
        submission_id=view.submission_id,
        status=view.status,
        build_job_name=view.build_job_name,
        build_pod_name=view.build_pod_name,
        docker_image_url=view.docker_image_url,
        error_message=view.error_message,
        warnings=view.warnings,
        queue_position=view.queue_position,
        status_history=[StatusChange(status=status, at=at) for status, at in view.history],
        created_at=view.created_at,
        updated_at=view.updated_at,
    )


def _build_summary(
    factory: SessionFactory, settings: Settings, secret: str | None, submission_id: str
) -> BuildSummary:
    """The build status, in one session; a bad token is 401 (before a 404), as everywhere."""
    with session_scope(factory) as session:
        if secret is not None:
            TokenService(session).authenticate(secret)
        return SubmissionService(session, settings).build_summary(submission_id)


@status_router.get("/submissions/{submission_id}/build-logs")
def build_logs(
    submission_id: str, session: SessionDep, settings: SettingsDep, viewer: OptionalUser
) -> BuildLogs:
    """The build log so far (owner and admins only)."""
    sub, text = SubmissionService(session, settings).build_log(viewer, submission_id)
    return BuildLogs(
        submission_id=sub.id, status=sub.status, build_log=text, updated_at=sub.updated_at
    )


@router.post("/submissions/{submission_id}/rebuild")
def rebuild(
    submission_id: str,
    user: CurrentUser,
    session: SessionDep,
    settings: SettingsDep,
    request: Request,
    context: AuditContext,
) -> SubmissionOut:
    """Build a build_failed, success, failed or inactive submission again."""
    submission = BuildCommands(session, settings).rebuild(user, submission_id, context)
    notify_build_queued(request)
    return present(submission, user)


@router.post("/submissions/{submission_id}/priority")
def set_priority(
    submission_id: str,
    body: PriorityChange,
    user: CurrentUser,
    session: SessionDep,
    settings: SettingsDep,
    context: AuditContext,
) -> SubmissionOut:
    """Raise (or lower) a queued build's priority (admins)."""
    commands = BuildCommands(session, settings)
    return present(commands.set_priority(user, submission_id, body.priority, context), user)


@router.get(
    "/submissions/{submission_id}/events",
    response_class=StreamingResponse,
    responses={
        200: {
            "description": (
                "Server-Sent Events: `status` and `log` events, until the build ends; each "
                "has an id, and a client sending back the last one as `Last-Event-ID` (or "
                "`lastEventId` in the query) gets only what came after it"
            ),
            "content": {"text/event-stream": {"schema": {"type": "string"}}},
        }
    },
)
async def build_events_sse(submission_id: str, request: Request) -> StreamingResponse:
    """Status changes and log lines as Server-Sent Events (``Accept: text/event-stream``)."""
    # No request-long database session here: a stream may last minutes, and on SQLite an open
    # transaction would keep the builders from writing meanwhile.
    factory = request.app.state.read_session_factory
    after = Cursor.parse(
        request.headers.get("last-event-id") or request.query_params.get("lastEventId")
    )
    viewer = await run_in_threadpool(
        _user_for, factory, bearer_secret(request.headers.get("authorization"))
    )
    with_log = await run_in_threadpool(_may_read_log, factory, viewer, submission_id)
    feeds: BuildFeeds = request.app.state.build_feeds

    async def stream() -> AsyncIterator[str]:
        async for cursor, event in build_events(
            feeds, submission_id, with_log=with_log, after=after
        ):
            yield as_sse(cursor, event)

    return StreamingResponse(
        stream(),
        media_type="text/event-stream",
        headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"},
    )


@router.websocket("/submissions/{submission_id}/events")
async def build_events_ws(websocket: WebSocket, submission_id: str) -> None:
    """The same events over a WebSocket, one JSON message each (its ``id`` resumes the
    stream as ``lastEventId`` in the query); closed when the build ends."""
    app = websocket.app
    factory = app.state.read_session_factory
    try:
        after = Cursor.parse(websocket.query_params.get("lastEventId"))
        token = bearer_secret(websocket.headers.get("authorization")) or websocket.query_params.get(
            "access_token"
        )
        viewer = await run_in_threadpool(_user_for, factory, token)
        with_log = await run_in_threadpool(_may_read_log, factory, viewer, submission_id)
    except AppError as exc:
        code = {400: 4400, 401: 4401}.get(exc.status_code, 4404)
        await websocket.close(code=code, reason=exc.error)
        return
    await websocket.accept()
    try:
        async for cursor, event in build_events(
            app.state.build_feeds, submission_id, with_log=with_log, after=after
        ):
            await websocket.send_json({**event, "id": str(cursor)})
        await websocket.close()
    except WebSocketDisconnect:
        return


def _may_read_log(factory: SessionFactory, viewer: User | None, submission_id: str) -> bool:
    with factory() as session:
        return may_read_build_log(session, viewer, submission_id)


def _user_for(factory: SessionFactory, token: str | None) -> User | None:
    """The token's user, from a session closed at once; 401 for a bad token."""
    if not token:
        return None
    with factory() as session:
        user = AccountService(session).authenticate(token)
        session.expunge(user)
        return user
