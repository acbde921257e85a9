"""What a page's route needs: who is looking (from the session cookie), the templates, and
one call that answers with the page or, for htmx, with one block of it."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import Depends, Request
from fastapi.responses import HTMLResponse, RedirectResponse

from botarena.accounts.models import User
from botarena.accounts.service import AccountService
from botarena.api.deps import SessionDep
from botarena.games.registry import known_games
from botarena.web.banner import platform_problems
from botarena.web.csrf import csrf_token
from botarena.web.templating import Templates

USER_KEY = "uid"


def viewer(request: Request, session: SessionDep) -> User | None:
    """The signed-in user of the session cookie; None when signed out (or the account is gone
    or disabled, which also ends the session)."""
    user_id = request.session.get(USER_KEY)
    if not isinstance(user_id, str):
        return None
    user = AccountService(session).signed_in(user_id)
    if user is None:
        request.session.pop(USER_KEY, None)
    return user


def templates(request: Request) -> Templates:
    found = request.app.state.web_templates
    assert isinstance(found, Templates)
    return found


Viewer = Annotated[User | None, Depends(viewer)]
TemplatesDep = Annotated[Templates, Depends(templates)]


def base_context(request: Request, user: User | None) -> dict[str, Any]:
    """What the layout needs on every page."""
    return {
        "request_path": request.url.path,
        "viewer": user,
        "csrf_token": csrf_token(request),
        "problems": platform_problems(request.app.state),
        "nav_games": sorted(known_games().values(), key=lambda game: game.title.lower()),
    }


def respond(
    request: Request,
    pages: Templates,
    user: User | None,
    template: str,
    context: dict[str, Any],
    *,
    block: str | None = None,
    status_code: int = 200,
) -> HTMLResponse:
    """The page, or only ``block`` of it when htmx asks (``HX-Request``)."""
    full = {**base_context(request, user), **context}
    if block is not None and request.headers.get("hx-request") == "true":
        html = pages.block(template, block, full)
    else:
        html = pages.page(template, full)
    # A page holds the session's CSRF token and who is signed in: for this browser only.
    headers = {"Vary": "HX-Request, Cookie", "Cache-Control": "private, no-cache"}
    return HTMLResponse(html, status_code=status_code, headers=headers)


def sign_in_first(path: str) -> RedirectResponse:
    """To the sign-in form, and back to ``path`` (a page of this site) once signed in."""
    return RedirectResponse(f"/login?next={path}", status_code=303)
