"""``/teams/{id}`` and ``/teams/join``: a team's page and the forms its members, its owner and
admins use, and the confirmation page an invite link opens, through the API's team service.

A new invite code is in the answer to the form that made it, and nowhere else (only its hash
is kept); that answer is not stored by any cache. An invite link names its code in the
address, so the join page is not cached either.
"""

from __future__ import annotations

from typing import Annotated, Any
from urllib.parse import quote

from fastapi import APIRouter, Form, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from botarena.accounts.models import User
from botarena.agents.teams import AgentTeams
from botarena.api.deps import SessionDep
from botarena.audit.deps import AuditContext
from botarena.errors import AppError
from botarena.teams.schemas import JOIN_PATH
from botarena.teams.service import MadeCode, TeamService, is_member
from botarena.web.deps import TemplatesDep, Viewer, respond, sign_in_first

router = APIRouter()

CodeField = Annotated[str, Form(max_length=128)]
NameField = Annotated[str, Form(max_length=256)]
CodeQuery = Annotated[str, Query(max_length=128)]
# Other teams offered in the merge form's list.
MERGE_CHOICES = 200


def _service(session: SessionDep) -> TeamService:
    return TeamService(session, AgentTeams(session))


@router.get(JOIN_PATH, response_class=HTMLResponse, response_model=None)
def join_page(
    request: Request, session: SessionDep, pages: TemplatesDep, user: Viewer, code: CodeQuery = ""
) -> Response:
    """What joining with this code means, and a button to confirm (nothing changes on GET)."""
    if user is None:
        return sign_in_first(quote(f"{JOIN_PATH}?code={code}", safe=""))
    if not code.strip():  # the form asking for one
        return respond(
            request, pages, user, "team_join.html", {"team": None, "code": "", "problem": None}
        )
    return _join_page(request, _service(session), pages, user, code, None)


@router.post(JOIN_PATH, response_class=HTMLResponse, response_model=None)
def join(
    request: Request,
    session: SessionDep,
    pages: TemplatesDep,
    user: Viewer,
    context: AuditContext,
    code: CodeField = "",
) -> Response:
    """Join the team; the page again with the reason when it is refused (nothing changed)."""
    if user is None:
        return sign_in_first(quote(f"{JOIN_PATH}?code={code}", safe=""))
    service = _service(session)
    try:
        team = service.join(user, code, context.acting_as(user))
    except AppError as exc:
        if exc.status_code not in (400, 403, 404, 409):
            raise
        session.rollback()
        return _join_page(request, service, pages, user, code, exc, exc.status_code)
    return RedirectResponse(f"/teams/{quote(team.id)}", status_code=303)


@router.get("/teams/{team_id}", response_class=HTMLResponse, response_model=None)
def team_page(
    team_id: str, request: Request, session: SessionDep, pages: TemplatesDep, user: Viewer
) -> Response:
    """The team: members, agents; for members its invite link, leaving; for its owner
    renaming and merges; for admins disbanding."""
    return _team_page(request, _service(session), pages, user, team_id, {})


@router.post("/teams/{team_id}/invite", response_class=HTMLResponse, response_model=None)
def new_invite(
    team_id: str, request: Request, session: SessionDep, pages: TemplatesDep, user: Viewer
) -> Response:
    """A new invite link, shown in this answer only; the previous one stops working."""
    if user is None:
        return sign_in_first(f"/teams/{quote(team_id)}")
    service = _service(session)
    made = service.new_invite_code(user, team_id)
    answer = _team_page(request, service, pages, user, team_id, {"made": _invite(request, made)})
    answer.headers["Cache-Control"] = "no-store"
    return answer


@router.post("/teams/{team_id}/rename", response_class=HTMLResponse, response_model=None)
def rename(
    team_id: str,
    request: Request,
    session: SessionDep,
    pages: TemplatesDep,
    user: Viewer,
    name: NameField = "",
) -> Response:
    """Rename the team (its owner); the page with the reason beside the field if refused."""
    if user is None:
        return sign_in_first(f"/teams/{quote(team_id)}")
    service = _service(session)
    try:
        service.rename(user, team_id, name)
    except AppError as exc:
        if exc.status_code not in (400, 409, 422):
            raise
        session.rollback()
        extra = {"errors": {"name": exc.error}, "form": {"name": name}}
        return _team_page(request, service, pages, user, team_id, extra, 400)
    return RedirectResponse(f"/teams/{quote(team_id)}", status_code=303)


@router.post("/teams/{team_id}/leave", response_class=HTMLResponse, response_model=None)
def leave(
    team_id: str,
    request: Request,
    session: SessionDep,
    pages: TemplatesDep,
    user: Viewer,
    context: AuditContext,
) -> Response:
    """Leave the team, then to one's account page; the team's page with the reason if
    refused."""
    if user is None:
        return sign_in_first(f"/teams/{quote(team_id)}")
    service = _service(session)
    try:
        service.leave(user, team_id, context.acting_as(user))
    except AppError as exc:
        if exc.status_code != 409:
            raise
        session.rollback()
        return _team_page(request, service, pages, user, team_id, {"problem": exc}, 409)
    return RedirectResponse("/me#teams", status_code=303)


@router.post("/teams/{team_id}/merge", response_class=HTMLResponse, response_model=None)
def ask_merge(
    team_id: str,
    request: Request,
    session: SessionDep,
    pages: TemplatesDep,
    user: Viewer,
    context: AuditContext,
    into: CodeField = "",
) -> Response:
    """Ask to merge into the chosen team (its owner); an empty choice withdraws the request."""
    if user is None:
        return sign_in_first(f"/teams/{quote(team_id)}")
    service = _service(session)
    try:
        service.request_merge(user, team_id, into or None, context.acting_as(user))
    except AppError as exc:
        if exc.status_code not in (400, 404, 409):
            raise
        session.rollback()
        return _team_page(request, service, pages, user, team_id, {"problem": exc}, 400)
    return RedirectResponse(f"/teams/{quote(team_id)}#merge", status_code=303)


@router.post(
    "/teams/{team_id}/merge-requests/{from_id}", response_class=HTMLResponse, response_model=None
)
def answer_merge(
    team_id: str,
    from_id: str,
    request: Request,
    session: SessionDep,
    pages: TemplatesDep,
    user: Viewer,
    context: AuditContext,
    accept: CodeField = "",
) -> Response:
    """Accept (``accept=yes``) or decline a team's request to merge into this one."""
    if user is None:
        return sign_in_first(f"/teams/{quote(team_id)}")
    service = _service(session)
    try:
        service.answer_merge(user, team_id, from_id, accept == "yes", context.acting_as(user))
    except AppError as exc:
        if exc.status_code not in (400, 404, 409):
            raise
        session.rollback()
        return _team_page(request, service, pages, user, team_id, {"problem": exc}, 400)
    return RedirectResponse(f"/teams/{quote(team_id)}", status_code=303)


@router.post("/teams/{team_id}/disband", response_model=None)
def disband(
    team_id: str, session: SessionDep, user: Viewer, context: AuditContext
) -> RedirectResponse:
    """Disband the team (admins): members removed, its agents stop playing."""
    if user is None:
        return sign_in_first(f"/teams/{quote(team_id)}")
    _service(session).disband(user, team_id, context.acting_as(user))
    return RedirectResponse(f"/teams/{quote(team_id)}", status_code=303)


def _invite(request: Request, made: MadeCode) -> dict[str, str]:
    base = str(request.base_url).rstrip("/")
    return {"code": made.code, "link": f"{base}{JOIN_PATH}?code={quote(made.code, safe='')}"}


def _join_page(
    request: Request,
    service: TeamService,
    pages: TemplatesDep,
    user: User,
    code: str,
    problem: AppError | None,
    status_code: int = 200,
) -> HTMLResponse:
    try:
        team = service.by_code(code)
    except AppError as exc:
        team, problem, status_code = None, problem or exc, exc.status_code
    context = {
        "team": team,
        "competition": service.competition(team.competition_id) if team else None,
        "current": service.current_team(user, team.competition_id) if team else None,
        "code": code,
        "problem": problem,
    }
    answer = respond(request, pages, user, "team_join.html", context, status_code=status_code)
    answer.headers["Cache-Control"] = "no-store"
    return answer


def _team_page(
    request: Request,
    service: TeamService,
    pages: TemplatesDep,
    user: User | None,
    team_id: str,
    extra: dict[str, Any],
    status_code: int = 200,
) -> HTMLResponse:
    view = service.view(team_id)
    team = view.team
    member = user is not None and is_member(user, team)
    owner = user is not None and any(
        m.user_id == user.id and m.role == "owner" for m in team.members
    )
    others: list[Any] = []
    if owner and team.disbanded_at is None:
        rows, _ = service.page(team.competition_id, MERGE_CHOICES, 0)
        others = [t for t in rows if t.id != team.id]
    context = {
        "view": view,
        "competition": service.competition(team.competition_id),
        "member": member,
        "owner": owner,
        "merge_choices": others,
        "made": None,
        "problem": None,
        "errors": {},
        "form": {"name": team.name},
        **extra,
    }
    return respond(request, pages, user, "team.html", context, status_code=status_code)
