"""``/login``, ``/login/once`` (a one-time link), ``/logout``, ``/signup``: the session cookie's
user, set and cleared.

Sign-in checks the password through the accounts' service behind the login limiter (failures
counted per username and per address; 429 with a clear message while locked); each sign-in and
each failure goes to the audit log. Sign-up makes the account and a session, no API token (those
are made on ``/me``, where their secret is shown). A form with a
problem comes back with the problem next to its field, and nothing is stored.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from botarena.accounts.deps import ClientAddress, JournalDep, LimiterDep
from botarena.accounts.login_links import LoginLinkService
from botarena.accounts.service import AccountService
from botarena.accounts.tokens import TokenService
from botarena.api.deps import SessionDep, SettingsDep
from botarena.errors import AppError
from botarena.web.csrf import rotate
from botarena.web.deps import USER_KEY, TemplatesDep, Viewer, respond

router = APIRouter()

TextField = Annotated[str, Form(max_length=1024)]


def _safe_next(target: str | None) -> str:
    """Where to go after signing in: a path of this site only, never another host."""
    if target and target.startswith("/") and not target.startswith(("//", "/\\")):
        return target
    return "/"


def _reason(exc: AppError) -> str:
    """What the sign-in form says about a refusal: a lockout with what to do, a wrong password
    or link in one vague sentence."""
    if exc.message is None or exc.status_code == 401:
        return exc.error
    return f"{exc.error}. {exc.message}"


@router.get("/login", response_class=HTMLResponse)
def login_form(
    request: Request, pages: TemplatesDep, user: Viewer, settings: SettingsDep, next: str = "/"
) -> HTMLResponse:
    context = {
        "form": {"username": ""},
        "errors": {},
        "next": _safe_next(next),
        "signup_open": settings.signup == "open",
    }
    return respond(request, pages, user, "login.html", context)


@router.post("/login", response_class=HTMLResponse)
def login(
    request: Request,
    session: SessionDep,
    pages: TemplatesDep,
    settings: SettingsDep,
    journal: JournalDep,
    limiter: LimiterDep,
    address: ClientAddress,
    username: TextField = "",
    password: TextField = "",
    next: TextField = "/",
) -> Response:
    """Sign in; the form again with the reason when it fails (429 while locked out)."""
    errors: dict[str, str] = {}
    if not username.strip():
        errors["username"] = "Enter your username."
    if not password:
        errors["password"] = "Enter your password."  # noqa: S105 - a message, not a secret
    status_code = 400
    headers: dict[str, str] = {}
    if not errors:
        try:
            user = TokenService(session, journal=journal).open_session(
                username.strip(), password, limiter=limiter, address=address
            )
        except AppError as exc:
            if exc.status_code not in (401, 429):
                raise
            status_code = exc.status_code
            headers = exc.headers or {}
            errors["form"] = _reason(exc)
        else:
            rotate(request)
            request.session[USER_KEY] = user.id
            return RedirectResponse(_safe_next(next), status_code=303)
    context = {
        "form": {"username": username},
        "errors": errors,
        "next": _safe_next(next),
        "signup_open": settings.signup == "open",
    }
    answer = respond(request, pages, None, "login.html", context, status_code=status_code)
    answer.headers.update(headers)
    return answer


@router.get("/login/once", response_class=HTMLResponse)
def login_once(
    request: Request,
    session: SessionDep,
    pages: TemplatesDep,
    settings: SettingsDep,
    journal: JournalDep,
    limiter: LimiterDep,
    address: ClientAddress,
    token: Annotated[str, Query(max_length=256)] = "",
) -> Response:
    """Sign in with a one-time login link (``botarena serve --demo`` prints one); the sign-in
    form with the reason when the link is unknown, used or expired (429 while the address is
    locked after too many failures)."""
    try:
        user = LoginLinkService(session, journal=journal).redeem(
            token, limiter=limiter, address=address
        )
    except AppError as exc:
        if exc.status_code not in (401, 429):
            raise
        context = {
            "form": {"username": ""},
            "errors": {"form": _reason(exc)},
            "next": "/",
            "signup_open": settings.signup == "open",
        }
        answer = respond(request, pages, None, "login.html", context, status_code=exc.status_code)
        answer.headers.update(exc.headers or {})
        return answer
    rotate(request)
    request.session[USER_KEY] = user.id
    return RedirectResponse("/", status_code=303)


@router.post("/logout")
def logout(request: Request) -> RedirectResponse:
    rotate(request)
    return RedirectResponse("/", status_code=303)


@router.get("/signup", response_class=HTMLResponse)
def signup_form(
    request: Request, pages: TemplatesDep, user: Viewer, settings: SettingsDep
) -> HTMLResponse:
    if settings.signup != "open":
        return respond(request, pages, user, "signup_closed.html", {}, status_code=404)
    return respond(request, pages, user, "signup.html", {"form": {"username": ""}, "errors": {}})


@router.post("/signup", response_class=HTMLResponse)
def signup(
    request: Request,
    session: SessionDep,
    pages: TemplatesDep,
    settings: SettingsDep,
    journal: JournalDep,
    username: TextField = "",
    password: TextField = "",
    confirm: TextField = "",
) -> Response:
    """Create an account and sign in with it; the form again with what is wrong."""
    if settings.signup != "open":
        return respond(request, pages, None, "signup_closed.html", {}, status_code=404)
    errors: dict[str, str] = {}
    if password != confirm:
        errors["confirm"] = "The two passwords differ."
    else:
        try:
            # No token: the pages sign in with the session; tokens are made on /me.
            user = AccountService(session, journal=journal).sign_up(username.strip(), password)
        except AppError as exc:
            if exc.status_code not in (400, 409, 422):
                raise
            field = exc.fields[0].field if exc.fields else "username"
            errors[field] = exc.error
        else:
            rotate(request)
            request.session[USER_KEY] = user.id
            return RedirectResponse("/", status_code=303)
    context = {"form": {"username": username}, "errors": errors}
    return respond(request, pages, None, "signup.html", context, status_code=400)
