"""CSRF tokens: one per session, in every form, checked on every POST of the pages.

A POST without the session's token (the form field ``csrf_token``, or the ``X-CSRF-Token``
header that htmx requests may carry instead) is refused with 403 before its route runs, so it
changes nothing.
"""

from __future__ import annotations

import hmac
import secrets

from fastapi import Request

from botarena.errors import AppError

FIELD = "csrf_token"
HEADER = "x-csrf-token"
_KEY = "csrf"


def csrf_token(request: Request) -> str:
    """The session's token, made when the session first needs one."""
    token = request.session.get(_KEY)
    if not isinstance(token, str) or not token:
        token = secrets.token_urlsafe(32)
        request.session[_KEY] = token
    return token


def rotate(request: Request) -> None:
    """A fresh session holding a fresh token (at sign-in and sign-out: a token or session id
    seen before then is worth nothing after)."""
    request.session.clear()
    csrf_token(request)


async def check_csrf(request: Request) -> None:
    """Refuse a POST whose token is missing or not the session's (403)."""
    if request.method in ("GET", "HEAD", "OPTIONS"):
        return
    expected = request.session.get(_KEY)
    sent = request.headers.get(HEADER)
    if sent is None:
        content_type = request.headers.get("content-type", "")
        if content_type.startswith(("application/x-www-form-urlencoded", "multipart/form-data")):
            value = (await request.form()).get(FIELD)
            sent = value if isinstance(value, str) else None
    if not isinstance(expected, str) or not sent or not hmac.compare_digest(sent, expected):
        raise AppError(
            "This form has expired or did not come from this site",
            "Reload the page and send the form again.",
            [],
            403,
        )
