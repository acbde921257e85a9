"""The participant's forms: a new agent (``/agents/new``), a new submission of an agent (an
archive, a whole folder or a Git URL) and a challenge of another agent, each through the
service behind the API's own route, so the same names, limits, URL checks and quota apply.

A refused form comes back with the reason next to its field and nothing stored; a form sent
while signed out is refused with 401, someone else's agent with 403, as the API does.
"""

from __future__ import annotations

import io
from typing import Annotated, Any, Literal
from urllib.parse import urlencode

from fastapi import APIRouter, File, Form, Query, Request, UploadFile
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlalchemy.orm import Session

from botarena.accounts.models import User
from botarena.agents.service import AgentService, SubmissionService
from botarena.api.deps import SessionDep, SettingsDep
from botarena.api.hooks import notify_build_queued, notify_match_queued
from botarena.errors import AppError
from botarena.games.registry import known_games
from botarena.matches.challenges import Challenges
from botarena.settings import Settings
from botarena.web.agents import views
from botarena.web.deps import TemplatesDep, Viewer, respond
from botarena.web.templating import Templates, agent_url, match_url, submission_url

router = APIRouter()

Source = Literal["archive", "folder", "git"]
NameField = Annotated[str, Form(max_length=256)]
UrlField = Annotated[str, Form(max_length=2048)]
RefField = Annotated[str, Form(max_length=255)]
# What the services call a field, as the page's forms name it.
_FIELDS = {"codeUrl": "code_url", "ref": "ref", "name": "name", "game": "game"}
# Errors a form shows next to its field; the others (401, 403, 404) are the error page.
_FORM_ERRORS = (400, 409, 413, 422, 429)


def _signed_in(user: User | None) -> User:
    if user is None:
        raise AppError("Sign in first", "Only a signed-in participant can do this.", [], 401)
    return user


def _message(exc: AppError) -> str:
    return exc.error if not exc.message else f"{exc.error}. {exc.message}"


def _field(exc: AppError, default: str) -> str:
    return _FIELDS.get(exc.fields[0].field, default) if exc.fields else default


@router.get("/agents/new", response_class=HTMLResponse)
def new_agent_form(
    request: Request,
    pages: TemplatesDep,
    user: Viewer,
    game: Annotated[str, Query(max_length=64)] = "",
    competition: Annotated[str, Query(max_length=64)] = "",
) -> Response:
    """The form; a signed-out visitor is sent to sign in first and comes back here."""
    if user is None:
        asked = {k: v for k, v in (("game", game), ("competition", competition)) if v}
        back = "/agents/new" + (f"?{urlencode(asked)}" if asked else "")
        return RedirectResponse(f"/login?{urlencode({'next': back})}", status_code=303)
    form = {"name": "", "game": game, "competition": competition}
    return _agent_form(request, pages, user, form, {})


@router.post("/agents/new", response_class=HTMLResponse)
def create_agent(
    request: Request,
    session: SessionDep,
    pages: TemplatesDep,
    user: Viewer,
    name: NameField = "",
    game: NameField = "",
    competition: NameField = "",
) -> Response:
    """Create the agent (``POST /api/v1/agents``'s service) and go to its page."""
    owner = _signed_in(user)
    try:
        agent = AgentService(session).create(owner, name.strip(), game, competition or None)
    except AppError as exc:
        if exc.status_code not in _FORM_ERRORS:
            raise
        session.rollback()
        errors = {_field(exc, "name"): exc.error}
        form = {"name": name, "game": game, "competition": competition}
        return _agent_form(request, pages, owner, form, errors, exc.status_code)
    return RedirectResponse(agent_url(agent.id), status_code=303)


def _agent_form(
    request: Request,
    pages: Templates,
    user: User,
    form: dict[str, str],
    errors: dict[str, str],
    status_code: int = 200,
) -> HTMLResponse:
    games = sorted(known_games().values(), key=lambda g: g.title.lower())
    context = {"form": form, "errors": errors, "games": games}
    return respond(request, pages, user, "agent_new.html", context, status_code=status_code)


@router.post("/agents/{agent_id}/submissions", response_model=None)
def submit(
    agent_id: str,
    request: Request,
    session: SessionDep,
    settings: SettingsDep,
    pages: TemplatesDep,
    user: Viewer,
    source: Annotated[Source, Form()],
    archive: Annotated[UploadFile | None, File()] = None,
    folder: Annotated[list[UploadFile] | None, File()] = None,
    code_url: UrlField = "",
    ref: RefField = "",
) -> Response:
    """A new submission from the one way chosen (the API's services for uploads and Git
    URLs); its build page, where the log streams, or this agent's page with the error."""
    owner = _signed_in(user)
    service = SubmissionService(session, settings)
    field = "code_url" if source == "git" else source
    try:
        # An empty choice reaches the service too, which checks the owner before the input.
        if source == "archive":
            upload = archive.file if archive is not None else io.BytesIO()
            name = archive.filename if archive is not None else None
            made = service.create_from_archive(owner, agent_id, upload, name)
        elif source == "folder":
            files = [(f.filename, f.file) for f in folder or [] if f.filename]
            made = service.create_from_folder(owner, agent_id, files)
        else:
            made = service.create_from_url(owner, agent_id, code_url.strip(), ref.strip() or None)
    except AppError as exc:
        if exc.status_code not in _FORM_ERRORS:
            raise
        session.rollback()
        errors = {_field(exc, field): _message(exc)}
        form = {"code_url": code_url, "ref": ref}
        return _agent_again(request, session, settings, pages, owner, agent_id, errors, form, exc)
    notify_build_queued(request)
    return RedirectResponse(submission_url(made.id), status_code=303)


@router.post("/agents/{agent_id}/challenge", response_model=None)
def challenge(
    agent_id: str,
    request: Request,
    session: SessionDep,
    settings: SettingsDep,
    pages: TemplatesDep,
    user: Viewer,
    opponent: NameField = "",
) -> Response:
    """An unranked match of this agent against the chosen one (the owner's quota applies);
    the match's page, or this agent's page with the reason beside the opponent."""
    owner = _signed_in(user)
    try:
        match = Challenges(session, settings).challenge(owner, agent_id, opponent)
    except AppError as exc:
        if exc.status_code not in _FORM_ERRORS:
            raise
        session.rollback()
        errors = {"opponent": _message(exc)}
        form = {"opponent": opponent}
        return _agent_again(request, session, settings, pages, owner, agent_id, errors, form, exc)
    notify_match_queued(request)
    return RedirectResponse(match_url(match.id), status_code=303)


def _agent_again(
    request: Request,
    session: Session,
    settings: Settings,
    pages: Templates,
    user: User,
    agent_id: str,
    errors: dict[str, str],
    form: dict[str, Any],
    exc: AppError,
) -> HTMLResponse:
    """The agent's page with the form's error beside its field (and its headers, such as
    ``Retry-After`` over the quota)."""
    page = views.agent_page(session, settings, user, agent_id)
    context = {"page": page, "errors": errors, "form": form}
    answer = respond(request, pages, user, "agent.html", context, status_code=exc.status_code)
    answer.headers.update(exc.headers or {})
    return answer
