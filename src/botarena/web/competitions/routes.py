"""The competitions' pages: the list, a competition's overview, joining, the final
selection, and the admin's forms (create, edit, start the final evaluation, freeze).

Each form is validated by the API's own schema and rules: on success it redirects (303) to the
competition's page; on failure it answers the form again with the problem and the status the
API would give, nothing stored. A new invite-only competition's join code is shown on the
answer to its form, once, and kept nowhere else.
"""

from __future__ import annotations

import json
from typing import Annotated, Any

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from pydantic import BaseModel, Field, ValidationError

from botarena.accounts.deps import client_address
from botarena.accounts.models import User
from botarena.agents.selection import SelectionService
from botarena.api.deps import SessionDep, SettingsDep
from botarena.api.hooks import notify_match_queued
from botarena.audit.context import ActionContext
from botarena.audit.deps import request_id
from botarena.competitions.deps import MembershipDep
from botarena.competitions.schemas import CompetitionCreate, CompetitionUpdate
from botarena.competitions.service import CompetitionService, CompetitionSpec
from botarena.errors import AppError
from botarena.finals.service import FinalsService
from botarena.web.admin.routes import AdminUser
from botarena.web.competitions import views
from botarena.web.deps import TemplatesDep, Viewer, respond, sign_in_first

router = APIRouter()

TextField = Annotated[str, Form(max_length=100_000)]


class CompetitionFields(BaseModel):
    """The competition form's fields as typed (the game is chosen only when creating)."""

    title: str = Field("", max_length=100_000)
    description: str = Field("", max_length=100_000)
    configuration: str = Field("", max_length=100_000)
    opens_at: str = Field("", max_length=100)
    deadline_at: str = Field("", max_length=100)
    final_ends_at: str = Field("", max_length=100)
    visibility: str = Field("public", max_length=100)
    daily_submission_limit: str = Field("", max_length=100)
    final_submissions_per_team: str = Field("2", max_length=100)
    max_team_size: str = Field("", max_length=100)


NUMBERS = ("daily_submission_limit", "final_submissions_per_team", "max_team_size")


@router.get("/competitions", response_class=HTMLResponse)
def competitions(
    request: Request,
    session: SessionDep,
    pages: TemplatesDep,
    user: Viewer,
    membership: MembershipDep,
) -> HTMLResponse:
    """Public competitions (and the viewer's invite-only ones) with the next date."""
    context = {"rows": views.competition_list(session, user, membership)}
    return respond(request, pages, user, "competitions.html", context)


@router.get("/competitions/new", response_class=HTMLResponse)
def new_competition(request: Request, pages: TemplatesDep, user: AdminUser) -> HTMLResponse:
    """The admin's form for a new competition."""
    return _form(request, pages, user, None, views.form_of(None))


@router.post("/competitions/new", response_model=None)
def create_competition(
    request: Request,
    session: SessionDep,
    settings: SettingsDep,
    pages: TemplatesDep,
    user: AdminUser,
    fields: Annotated[CompetitionFields, Form()],
    game: TextField = "",
) -> Response:
    """Create a competition; an invite-only one's join code is shown on the answer, once."""
    form = {**fields.model_dump(), "game": game}
    try:
        body = CompetitionCreate.model_validate(_parsed(form))
        made = CompetitionService(session).create(
            user, CompetitionSpec(**body.model_dump()), _context(request, user)
        )
    except (AppError, ValidationError) as exc:
        session.rollback()
        return _form(request, pages, user, None, form, _problem(exc))
    slug = made.competition.slug
    if made.join_code is None:
        return RedirectResponse(f"/competitions/{slug}", status_code=303)
    return _page(request, session, settings, pages, user, slug, join_code=made.join_code)


@router.get("/competitions/{ref}", response_class=HTMLResponse)
def competition(
    ref: str,
    request: Request,
    session: SessionDep,
    settings: SettingsDep,
    pages: TemplatesDep,
    user: Viewer,
) -> HTMLResponse:
    """A competition: description, dates, phase, limits, leaderboard or final standings."""
    return _page(request, session, settings, pages, user, ref)


@router.get("/competitions/{ref}/edit", response_class=HTMLResponse)
def edit_competition(
    ref: str, request: Request, session: SessionDep, pages: TemplatesDep, user: AdminUser
) -> HTMLResponse:
    """The admin's form for changing a competition."""
    found = CompetitionService(session).get(ref)
    return _form(request, pages, user, found.slug, views.form_of(found))


@router.post("/competitions/{ref}/edit", response_model=None)
def update_competition(
    ref: str,
    request: Request,
    session: SessionDep,
    settings: SettingsDep,
    pages: TemplatesDep,
    user: AdminUser,
    fields: Annotated[CompetitionFields, Form()],
    new_join_code: TextField = "",
) -> Response:
    """Change what the competition's phase still allows; only the fields that changed are
    sent to the service (so an unchanged date of an open competition is no refusal)."""
    service = CompetitionService(session)
    found = service.get(ref)
    before = views.form_of(found)
    form = fields.model_dump()
    changed = {k: v for k, v in form.items() if str(before.get(k, "")) != v.replace("\r\n", "\n")}
    try:
        body = CompetitionUpdate.model_validate(
            {**_parsed(changed), "new_join_code": bool(new_join_code)}
        )
        made = service.update(
            user, found.id, body.model_dump(exclude_unset=True), _context(request, user)
        )
    except (AppError, ValidationError) as exc:
        session.rollback()
        return _form(request, pages, user, found.slug, {**form, "game": found.game}, _problem(exc))
    if made.join_code is None:
        return RedirectResponse(f"/competitions/{made.competition.slug}", status_code=303)
    return _page(
        request, session, settings, pages, user, made.competition.slug, join_code=made.join_code
    )


@router.post("/competitions/{ref}/join", response_model=None)
def join(
    ref: str,
    request: Request,
    session: SessionDep,
    settings: SettingsDep,
    pages: TemplatesDep,
    user: Viewer,
    membership: MembershipDep,
    code: Annotated[str, Form(max_length=200)] = "",
) -> Response:
    """Take part (with the join code of an invite-only competition)."""
    if user is None:
        return sign_in_first(f"/competitions/{ref}")
    try:
        CompetitionService(session).join(user, ref, code or None, membership)
    except AppError as exc:
        session.rollback()
        return _page(request, session, settings, pages, user, ref, error=exc)
    return RedirectResponse(f"/competitions/{ref}", status_code=303)


@router.post("/competitions/{ref}/selection", response_model=None)
def select(
    ref: str,
    request: Request,
    session: SessionDep,
    settings: SettingsDep,
    pages: TemplatesDep,
    user: Viewer,
    submission: Annotated[list[str] | None, Form(max_length=100)] = None,
) -> Response:
    """The team's submissions for the final (none ticked: the default)."""
    if user is None:
        return sign_in_first(f"/competitions/{ref}")
    try:
        found = CompetitionService(session).get(ref)
        SelectionService(session).choose(user, found, submission or [])
    except AppError as exc:
        session.rollback()
        return _page(request, session, settings, pages, user, ref, error=exc)
    return RedirectResponse(f"/competitions/{ref}#selection", status_code=303)


@router.post("/competitions/{ref}/final-evaluation", response_model=None)
def start_final(
    ref: str,
    request: Request,
    session: SessionDep,
    settings: SettingsDep,
    pages: TemplatesDep,
    user: AdminUser,
    rounds: Annotated[str, Form(max_length=8)] = "1",
) -> Response:
    """Start the final evaluation with this many rounds."""
    try:
        count = int(rounds.strip())
    except ValueError:
        count = 0
    try:
        FinalsService(session, settings).start(user, ref, count, _context(request, user))
    except AppError as exc:
        session.rollback()
        return _page(request, session, settings, pages, user, ref, error=exc)
    notify_match_queued(request)
    return RedirectResponse(f"/competitions/{ref}", status_code=303)


@router.post("/competitions/{ref}/freeze", response_model=None)
def freeze(
    ref: str,
    request: Request,
    session: SessionDep,
    settings: SettingsDep,
    pages: TemplatesDep,
    user: AdminUser,
) -> Response:
    """Freeze now: standings stored, no more matches."""
    try:
        FinalsService(session, settings).freeze(user, ref, _context(request, user))
    except AppError as exc:
        session.rollback()
        return _page(request, session, settings, pages, user, ref, error=exc)
    return RedirectResponse(f"/competitions/{ref}", status_code=303)


def _page(
    request: Request,
    session: SessionDep,
    settings: SettingsDep,
    pages: TemplatesDep,
    user: User | None,
    ref: str,
    *,
    join_code: str | None = None,
    error: AppError | None = None,
) -> HTMLResponse:
    if error is not None and error.status_code == 404:
        raise error
    context = {
        "page": views.competition_page(session, settings, user, ref),
        "join_code": join_code,
        "error": _message(error) if error is not None else None,
    }
    status = error.status_code if error is not None else 200
    return respond(request, pages, user, "competition.html", context, status_code=status)


def _form(
    request: Request,
    pages: TemplatesDep,
    user: User,
    slug: str | None,
    form: dict[str, Any],
    error: tuple[str, int] | None = None,
) -> HTMLResponse:
    context = {
        "slug": slug,
        "form": form,
        "games": views.games(),
        "error": error[0] if error else None,
    }
    status = error[1] if error else 200
    return respond(request, pages, user, "competition_form.html", context, status_code=status)


def _parsed(form: dict[str, str]) -> dict[str, Any]:
    """The form's text as the API's body: numbers, the JSON configuration, no empty dates."""
    body: dict[str, Any] = {}
    for name, value in form.items():
        text = value.strip()
        if name in NUMBERS:
            body[name] = _number(name, text)
        elif name == "configuration":
            body[name] = _configuration(text)
        elif name in views.FORM_DATES:
            body[name] = text or None
        else:
            body[name] = value
    return body


def _number(name: str, text: str) -> int | None:
    if not text:
        return None
    try:
        return int(text)
    except ValueError:
        words = name.replace("_", " ")
        raise AppError(f"Enter a whole number for the {words}", None, [], 422) from None


def _configuration(text: str) -> dict[str, Any]:
    if not text:
        return {}
    try:
        value = json.loads(text)
    except json.JSONDecodeError:
        value = None
    if not isinstance(value, dict):
        raise AppError('The configuration is a JSON object, e.g. {"rows": 6}', None, [], 422)
    return value


def _problem(exc: AppError | ValidationError) -> tuple[str, int]:
    if isinstance(exc, AppError):
        return _message(exc), exc.status_code
    problem = exc.errors()[0]
    place = ".".join(str(p) for p in problem["loc"])
    return f"{place}: {str(problem['msg']).removeprefix('Value error, ')}", 422


def _message(exc: AppError) -> str:
    return exc.error if not exc.message else f"{exc.error}. {exc.message}"


def _context(request: Request, user: User) -> ActionContext:
    return ActionContext.of(user, client_address(request), request_id(request))
