"""``/admin``, for admins only: users, the ladder's switches, build priorities, the queues,
the executors and tournaments, each action a CSRF-checked form.

An action that succeeds redirects (303) to its section of the page with a confirmation kept
in the session for the next view; one that fails answers the page with the error beside the
form (and the status the API would give), nothing stored. A signed-out visitor is sent to
sign in first; anyone else but an admin gets 403.
"""

from __future__ import annotations

from collections.abc import Collection
from functools import partial
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response, StreamingResponse
from pydantic import ValidationError
from starlette.concurrency import run_in_threadpool

from botarena.accounts.deps import JournalDep, client_address
from botarena.accounts.models import User
from botarena.accounts.service import AccountService
from botarena.api.deps import SessionDep, SettingsDep
from botarena.api.hooks import notify_match_queued
from botarena.audit.context import ActionContext
from botarena.audit.deps import request_id
from botarena.builds.commands import BuildCommands
from botarena.builds.feed import TOPIC_PREFIX as SUBMISSION_TOPICS
from botarena.builds.schemas import PriorityChange
from botarena.db.engine import SessionFactory
from botarena.errors import AppError, FieldProblem, forbidden
from botarena.games.registry import is_known_game
from botarena.ladder.service import LadderService
from botarena.matches.events import TOPIC_PREFIX as MATCH_TOPICS
from botarena.settings import Settings
from botarena.tournaments.schemas import TournamentCreate
from botarena.tournaments.service import TournamentService, TournamentSpec
from botarena.web.admin import views
from botarena.web.csrf import csrf_token
from botarena.web.deps import USER_KEY, TemplatesDep, Viewer, respond, sign_in_first
from botarena.web.live import Watch, block_events, status_only
from botarena.web.renders import SharedRenders
from botarena.web.templating import Templates

router = APIRouter()

PATH = "/admin"
FLASH_KEY = "admin_flash"
TextField = Annotated[str, Form(max_length=1024)]
UserAction = Literal["make-admin", "remove-admin", "disable", "enable"]
LadderAction = Literal["pause", "resume"]
# The tournament form's fields, by the schema's names (Python's and the wire's).
_TOURNAMENT_FIELDS = {
    "game": "t-game",
    "format": "t-format",
    "rounds": "t-rounds",
    "games_per_pairing": "t-games",
    "gamesPerPairing": "t-games",
    "seed": "t-seed",
}


def admin_user(user: Viewer) -> User:
    """The signed-in admin; 401 when signed out, 403 for anyone else."""
    if user is None:
        raise AppError("Sign in first", "Only admins can do this.", [], 401)
    if not user.is_admin:
        raise forbidden("Only admins may use the admin page")
    return user


AdminUser = Annotated[User, Depends(admin_user)]


@router.get(PATH, response_class=HTMLResponse, response_model=None)
def admin(
    request: Request, session: SessionDep, settings: SettingsDep, pages: TemplatesDep, user: Viewer
) -> Response:
    """The whole page, with the confirmation of the action just done, if any."""
    if user is None:
        return sign_in_first(PATH)
    admin_user(user)
    flash = request.session.pop(FLASH_KEY, None)
    return _page(request, session, settings, pages, user, flash=flash)


@router.post(f"{PATH}/users", response_model=None)
def create_user(
    request: Request,
    session: SessionDep,
    settings: SettingsDep,
    pages: TemplatesDep,
    journal: JournalDep,
    user: AdminUser,
    username: TextField = "",
    password: TextField = "",
    admin: TextField = "",
) -> Response:
    """A new account with a password (its first token is never shown: the user makes their
    own); the form again with the problem beside its field."""
    name = username.strip()
    accounts = AccountService(session, journal=journal, token_days=settings.token_days)
    try:
        made, _token = accounts.create_user(
            name, password, admin=bool(admin), actor=user, label="made on the admin page"
        )
    except AppError as exc:
        field = exc.fields[0].field if exc.fields else "username"
        key = "new-password" if field == "password" else "new-username"
        form = {"username": username, "admin": bool(admin)}
        return _refused(request, session, settings, pages, user, exc, key, form)
    role = "admin" if made.is_admin else "participant"
    return _done(request, "users", f"User {made.username} created ({role}).")


@router.post(f"{PATH}/users/{{username}}/{{action}}", response_model=None)
def change_user(
    username: str,
    action: UserAction,
    request: Request,
    session: SessionDep,
    settings: SettingsDep,
    pages: TemplatesDep,
    journal: JournalDep,
    user: AdminUser,
) -> Response:
    """Make admin, remove admin, disable, enable (never oneself out of the admins)."""
    accounts = AccountService(session, journal=journal, token_days=settings.token_days)
    try:
        if action in ("make-admin", "remove-admin"):
            changed = accounts.set_admin(username, action == "make-admin", actor=user)
        else:
            changed = accounts.set_disabled(username, action == "disable", actor=user)
    except AppError as exc:
        key = f"user-{username}"
        return _refused(request, session, settings, pages, user, exc, key)
    done = {
        "make-admin": "is an admin now",
        "remove-admin": "is no longer an admin",
        "disable": "is disabled",
        "enable": "is enabled",
    }[action]
    note = "" if changed else " (it already was)"
    return _done(request, "users", f"User {username} {done}{note}.")


@router.post(f"{PATH}/ladder/{{action}}", response_model=None)
def switch_ladder(
    action: LadderAction,
    request: Request,
    session: SessionDep,
    settings: SettingsDep,
    pages: TemplatesDep,
    user: AdminUser,
    game: TextField = "",
) -> Response:
    """Pause or resume one game's ladder, or every game's (no game), audited as the API's."""
    try:
        LadderService(session).switch(
            user, _context(request, user), game or None, paused=(action == "pause")
        )
    except AppError as exc:
        key = f"ladder-{game}" if game and is_known_game(game) else "ladder-all"
        return _refused(request, session, settings, pages, user, exc, key)
    which = f"The {game} ladder" if game else "Every game's ladder"
    return _done(request, "ladder", f"{which} is {'paused' if action == 'pause' else 'running'}.")


@router.post(f"{PATH}/builds/{{submission_id}}/priority", response_model=None)
def set_priority(
    submission_id: str,
    request: Request,
    session: SessionDep,
    settings: SettingsDep,
    pages: TemplatesDep,
    user: AdminUser,
    priority: TextField = "",
) -> Response:
    """A queued build's priority (higher builds first), checked as the API checks it."""
    key = f"priority-{submission_id}"
    try:
        value = PriorityChange.model_validate({"priority": _whole(priority, "priority")}).priority
        BuildCommands(session, settings).set_priority(
            user, submission_id, value, _context(request, user)
        )
    except ValidationError as exc:
        error = AppError(_first_problem(exc), None, [], 422)
        return _refused(request, session, settings, pages, user, error, key)
    except AppError as exc:
        return _refused(request, session, settings, pages, user, exc, key)
    return _done(request, "builds", f"Submission {submission_id} has priority {value} now.")


@router.post(f"{PATH}/tournaments", response_model=None)
def create_tournament(
    request: Request,
    session: SessionDep,
    settings: SettingsDep,
    pages: TemplatesDep,
    user: AdminUser,
    game: TextField = "",
    format: TextField = "",
    rounds: TextField = "",
    games_per_pairing: TextField = "1",
    seed: TextField = "",
) -> Response:
    """Start a tournament of every active submission of a game, validated by the API's own
    schema and rules; the form again with the problem beside its field."""
    form = {
        "game": game,
        "format": format,
        "rounds": rounds,
        "games_per_pairing": games_per_pairing,
        "seed": seed,
    }
    service = TournamentService(session, settings)
    try:
        body = TournamentCreate.model_validate(
            {
                "game": game,
                "format": format,
                "rounds": _whole(rounds, "rounds") if rounds.strip() else None,
                "games_per_pairing": _whole(games_per_pairing, "games_per_pairing"),
                "seed": _whole(seed, "seed") if seed.strip() else None,
            }
        )
        spec = TournamentSpec(
            game=body.game,
            format=body.format,
            rounds=body.rounds,
            games_per_pairing=body.games_per_pairing,
            seed=body.seed,
        )
        tournament, queued = service.create(user, spec, _context(request, user))
    except ValidationError as exc:
        place = exc.errors()[0]["loc"]
        key = _TOURNAMENT_FIELDS.get(str(place[0]) if place else "", "tournament")
        error = AppError(_first_problem(exc), None, [], 422)
        return _refused(request, session, settings, pages, user, error, key, {"tournament": form})
    except AppError as exc:
        name = exc.fields[0].field if exc.fields else ""
        key = _TOURNAMENT_FIELDS.get(name, "tournament")
        return _refused(request, session, settings, pages, user, exc, key, {"tournament": form})
    if queued:
        notify_match_queued(request)
    text = f"Tournament {tournament.id} started: {_matches(queued)} queued."
    return _done(request, "tournaments", text)


@router.post(f"{PATH}/tournaments/{{tournament_id}}/cancel", response_model=None)
def cancel_tournament(
    tournament_id: str,
    request: Request,
    session: SessionDep,
    settings: SettingsDep,
    pages: TemplatesDep,
    user: AdminUser,
) -> Response:
    """Stop a running tournament; its unplayed matches are cancelled."""
    try:
        cancelled = TournamentService(session, settings).cancel(
            user, tournament_id, _context(request, user)
        )
    except AppError as exc:
        key = f"cancel-{tournament_id}"
        return _refused(request, session, settings, pages, user, exc, key)
    text = f"Tournament {tournament_id} cancelled ({_matches(cancelled)} cancelled)."
    return _done(request, "tournaments", text)


@router.get("/live/admin")
async def admin_live(request: Request) -> StreamingResponse:
    """The build and match queues, sent again as builds and matches change status (admins
    only; the build queue's forms carry this session's CSRF token)."""
    state = request.app.state
    settings: Settings = state.settings
    factory: SessionFactory = state.read_session_factory
    pages: Templates = state.web_templates
    renders: SharedRenders = state.web_renders
    await run_in_threadpool(_check_admin, factory, request.session.get(USER_KEY))
    token = csrf_token(request)

    def render_one(block: str) -> str:
        with factory() as session:
            if block == "build_queue":
                shown: dict[str, Any] = {"builds": views.build_queue(session)}
            else:
                shown = {"matches": views.match_queue(session, settings)}
            context = {"page": shown, "errors": {}, "csrf_token": token}
            return pages.block("admin.html", block, context)

    def render(blocks: Collection[str], since: float) -> dict[str, str]:
        return {b: renders.get(("admin", b, token), since, partial(render_one, b)) for b in blocks}

    watches = [
        Watch(SUBMISSION_TOPICS, ("build_queue",), prefix=True, only=status_only),
        Watch(MATCH_TOPICS, ("match_queue",), prefix=True),
    ]
    resumed = bool(request.headers.get("last-event-id"))
    events = block_events(state.events, watches, render, request.receive, resumed=resumed)
    return StreamingResponse(
        events,
        media_type="text/event-stream",
        headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"},
    )


# -- helpers -----------------------------------------------------------------------------
def _check_admin(factory: SessionFactory, user_id: object) -> None:
    with factory() as session:
        found = AccountService(session).signed_in(user_id) if isinstance(user_id, str) else None
        admin_user(found)


def _whole(text: str, field: str) -> int:
    """A form's whole number; a 422 on that field otherwise."""
    try:
        return int(text.strip())
    except ValueError:
        error = "Enter a whole number"
        raise AppError(error, None, [FieldProblem(field, error)], 422) from None


def _first_problem(exc: ValidationError) -> str:
    problem = exc.errors()[0]
    return str(problem["msg"]).removeprefix("Value error, ")


def _matches(count: int) -> str:
    return f"{count} match" if count == 1 else f"{count} matches"


def _context(request: Request, user: User) -> ActionContext:
    return ActionContext.of(user, client_address(request), request_id(request))


def _done(request: Request, section: str, text: str) -> RedirectResponse:
    request.session[FLASH_KEY] = {"section": section, "text": text}
    return RedirectResponse(f"{PATH}#{section}", status_code=303)


def _refused(
    request: Request,
    session: SessionDep,
    settings: SettingsDep,
    pages: TemplatesDep,
    user: User,
    exc: AppError,
    key: str,
    form: dict[str, Any] | None = None,
) -> Response:
    session.rollback()
    if exc.status_code == 404:
        raise exc  # no such user, build or tournament: the error page, as anywhere
    message = exc.error if not exc.message else f"{exc.error}. {exc.message}"
    return _page(
        request,
        session,
        settings,
        pages,
        user,
        errors={key: message},
        form=form,
        status_code=exc.status_code,
    )


def _page(
    request: Request,
    session: SessionDep,
    settings: SettingsDep,
    pages: TemplatesDep,
    user: User,
    *,
    flash: Any = None,
    errors: dict[str, str] | None = None,
    form: dict[str, Any] | None = None,
    status_code: int = 200,
) -> Response:
    page = views.admin_page(session, settings, request.app.state, form)
    context = {"page": page, "errors": errors or {}, "flash": flash}
    return respond(request, pages, user, "admin.html", context, status_code=status_code)
