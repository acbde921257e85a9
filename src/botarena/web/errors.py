"""Errors of page requests as HTML pages; the API's requests keep their JSON bodies.

A request is a page's unless its path belongs to the API, the static files, the API's
documentation or the health check.
"""

from __future__ import annotations

import inspect
from collections.abc import Awaitable, Callable, Mapping
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.responses import Response

from botarena.errors import AppError
from botarena.web.deps import base_context
from botarena.web.templating import Templates

Handler = Callable[[Request, Any], Response | Awaitable[Response]]
NOT_PAGES = ("/api/", "/static/", "/docs", "/openapi.json", "/healthz", "/readyz")
_TITLES = {400: "Bad request", 403: "Forbidden", 404: "Not found", 405: "Method not allowed"}


def is_page(request: Request) -> bool:
    return not request.url.path.startswith(NOT_PAGES)


def install_page_errors(app: FastAPI, templates: Templates) -> None:
    """Wrap the API's handlers (installed first): a page's error renders ``error.html``."""
    for kind in (AppError, StarletteHTTPException, RequestValidationError):
        previous = app.exception_handlers[kind]
        app.add_exception_handler(kind, _page_or(previous, templates))


def _page_or(previous: Handler, templates: Templates) -> Handler:
    async def handle(request: Request, exc: Exception) -> Response:
        if not is_page(request):
            answer = previous(request, exc)
            return await answer if inspect.isawaitable(answer) else answer
        status_code, title, message, headers = _describe(exc)
        context = {
            **base_context(request, None),
            "status_code": status_code,
            "title": title,
            "message": message,
        }
        html = templates.page("error.html", context)
        return Response(html, status_code, headers=headers, media_type="text/html")

    return handle


def _describe(exc: Exception) -> tuple[int, str, str | None, Mapping[str, str] | None]:
    if isinstance(exc, AppError):
        return exc.status_code, exc.error, exc.message, exc.headers
    if isinstance(exc, StarletteHTTPException):
        title = _TITLES.get(exc.status_code, "Error")
        detail = exc.detail if isinstance(exc.detail, str) and exc.detail != title else None
        return exc.status_code, title, detail, exc.headers
    return 400, "Bad request", "A value in the address is not valid.", None
