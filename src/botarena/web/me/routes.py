"""``/me``: the signed-in user's API tokens (create, list, revoke) and how to point the command
line at this server.

A new token's secret is in the answer to the form that made it, and nowhere else: not in the
session, not in a redirect, not in the log; that answer is not to be stored by any cache. The
tokens are the API's (``/api/v1/auth/tokens``), made and revoked through the same service and
recorded in the same audit log. Signed out, every route here sends the browser to sign in.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from botarena.accounts.deps import JournalDep
from botarena.accounts.journal import TokenMethod
from botarena.accounts.models import User
from botarena.accounts.tokens import IssuedToken, TokenService
from botarena.api.deps import SessionDep, SettingsDep
from botarena.errors import AppError
from botarena.web.deps import TemplatesDep, Viewer, respond, sign_in_first
from botarena.web.me import views

router = APIRouter()

PATH = "/me"

TextField = Annotated[str, Form(max_length=1024)]


@router.get(PATH, response_class=HTMLResponse, response_model=None)
def me(
    request: Request,
    session: SessionDep,
    settings: SettingsDep,
    pages: TemplatesDep,
    user: Viewer,
) -> Response:
    """The account page: tokens and the command line's sign-in."""
    if user is None:
        return sign_in_first(PATH)
    return _page(request, session, settings, pages, user, {})


@router.post(f"{PATH}/tokens", response_class=HTMLResponse, response_model=None)
def create_token(
    request: Request,
    session: SessionDep,
    settings: SettingsDep,
    pages: TemplatesDep,
    journal: JournalDep,
    user: Viewer,
    name: TextField = "",
    days: TextField = "",
) -> Response:
    """A new token, its secret shown in this answer only; the form with the error next to the
    field when a value is wrong (nothing made)."""
    if user is None:
        return sign_in_first(PATH)
    options, errors = views.token_options(name, days)
    form = {"name": name, "days": days}
    if options is None:
        return _page(request, session, settings, pages, user, {"form": form, "errors": errors}, 400)
    service = TokenService(session, token_days=settings.token_days, journal=journal)
    try:
        issued = service.issue(user, options.terms(), actor=user, method=TokenMethod.SESSION)
    except AppError as exc:
        if exc.status_code not in (400, 403, 422):
            raise
        errors = {"days" if exc.fields else "name": exc.error}
        return _page(request, session, settings, pages, user, {"form": form, "errors": errors}, 400)
    answer = _page(request, session, settings, pages, user, {"created": issued})
    answer.headers["Cache-Control"] = "no-store"
    return answer


@router.post(f"{PATH}/tokens/{{token_id}}/revoke", response_model=None)
def revoke_token(
    token_id: str, session: SessionDep, journal: JournalDep, user: Viewer
) -> RedirectResponse:
    """Revoke one of one's own tokens (404 for anyone else's, admins included: this page deals
    with one's own) and go back to the list."""
    if user is None:
        return sign_in_first(PATH)
    TokenService(session, journal=journal).revoke(user, token_id, own_only=True)
    return RedirectResponse(f"{PATH}#tokens", status_code=303)


def _page(
    request: Request,
    session: SessionDep,
    settings: SettingsDep,
    pages: TemplatesDep,
    user: User,
    extra: dict[str, Any],
    status_code: int = 200,
) -> HTMLResponse:
    server = (settings.public_url or str(request.base_url)).rstrip("/")
    created: IssuedToken | None = extra.get("created")
    context = {
        "listing": views.tokens_of(session, user),
        "teams": views.teams_of(session, user),
        "cli": views.CliHint(server, user.username),
        "form": {"name": "", "days": ""},
        "errors": {},
        "created": created,
        "default_days": settings.token_days,
        **extra,
    }
    return respond(request, pages, user, "me.html", context, status_code=status_code)
