"""Turns every error into the API's JSON error body ``{"error", "message"?, "fields"?}``."""

from __future__ import annotations

import re
from http import HTTPStatus
from typing import Any

import structlog
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from sqlalchemy.exc import OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeoutError
from starlette.exceptions import HTTPException as StarletteHTTPException

from botarena.api.admission import RETRY_AFTER_SECONDS
from botarena.api.headers import baseline_headers
from botarena.errors import AppError

log = structlog.get_logger(__name__)
# SQLite's own words for a lock it could not get within the busy timeout.
_SQLITE_BUSY = re.compile(r"database (table )?is locked|database is busy")

_STATUS_SENTENCES = {
    400: "Bad request",
    401: "Authentication required",
    403: "Forbidden",
    404: "Not found",
    405: "Method not allowed",
    406: "Not acceptable",
    409: "Conflict",
    413: "Request body too large",
    415: "Unsupported media type",
    429: "Too many requests",
    503: "Service unavailable",
}


def error_body(
    error: str, message: str | None = None, fields: list[dict[str, str]] | None = None
) -> dict[str, Any]:
    """The JSON error body, leaving out what is empty."""
    body: dict[str, Any] = {"error": error}
    if message:
        body["message"] = message
    if fields:
        body["fields"] = fields
    return body


def install_error_handlers(app: FastAPI) -> None:
    """Register the handlers on ``app``."""
    app.add_exception_handler(AppError, _app_error)
    app.add_exception_handler(RequestValidationError, _validation_error)
    app.add_exception_handler(StarletteHTTPException, _http_error)
    app.add_exception_handler(PoolTimeoutError, _database_busy)
    app.add_exception_handler(OperationalError, _database_unavailable)
    app.add_exception_handler(Exception, _unexpected_error)


async def _app_error(_request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, AppError)
    fields = [{"field": p.field, "message": p.message} for p in exc.fields]
    headers = {"WWW-Authenticate": "Bearer"} if exc.status_code == 401 else exc.headers
    return JSONResponse(
        error_body(exc.error, exc.message, fields), status_code=exc.status_code, headers=headers
    )


async def _validation_error(_request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestValidationError)
    errors = exc.errors()
    if any(e.get("type") == "json_invalid" for e in errors):
        return JSONResponse(
            error_body("Request body is not valid JSON", "Send a JSON object."), status_code=400
        )
    fields = [
        {"field": _field_name(e.get("loc", ())), "message": str(e.get("msg", "invalid value"))}
        for e in errors
    ]
    return JSONResponse(
        error_body("Request is not valid", "See fields for each problem.", fields), status_code=422
    )


async def _http_error(_request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, StarletteHTTPException)
    sentence = exc.detail if isinstance(exc.detail, str) else None
    if sentence is None or sentence == _default_phrase(exc.status_code):
        sentence = _STATUS_SENTENCES.get(exc.status_code, _default_phrase(exc.status_code))
    return JSONResponse(error_body(sentence), status_code=exc.status_code, headers=exc.headers)


async def _database_busy(_request: Request, exc: Exception) -> JSONResponse:
    # Every connection stayed in use for the pool's whole timeout: more load than it serves.
    log.warning("no database connection in time", error=type(exc).__name__)
    return _unavailable("Server busy", "No database connection was free in time.")


async def _database_unavailable(request: Request, exc: Exception) -> JSONResponse:
    # SQLite's lock held past the busy timeout, or PostgreSQL unreachable, full or cancelling:
    # the request may well succeed later. Anything else is a bug, answered as one.
    assert isinstance(exc, OperationalError)
    reason = str(exc.orig).splitlines()[0] if str(exc.orig) else type(exc.orig).__name__
    if type(exc.orig).__module__ == "sqlite3" and not _SQLITE_BUSY.search(reason):
        return await _unexpected_error(request, exc)
    log.warning("database unavailable", error=reason)
    return _unavailable("Database unavailable", "The database could not answer in time.")


def _unavailable(error: str, message: str) -> JSONResponse:
    return JSONResponse(
        error_body(error, f"{message} Retry after {RETRY_AFTER_SECONDS} s."),
        status_code=503,
        headers={"Retry-After": str(RETRY_AFTER_SECONDS)},
    )


async def _unexpected_error(request: Request, exc: Exception) -> JSONResponse:
    # Sent from outside every middleware, so the request id they bound (still on the request's
    # state) and the headers they add are added here.
    request_id = getattr(request.state, "request_id", None)
    extra = {"x-request-id": request_id} if isinstance(request_id, str) else {}
    log.exception("unhandled error", exc_info=exc, **({"request_id": request_id} if extra else {}))
    return JSONResponse(
        error_body("Internal server error", "The failure was logged."),
        status_code=500,
        headers={**baseline_headers(), **extra},
    )


def _field_name(location: Any) -> str:
    # ("body", "agentId") -> "agentId"; ("query", "limit") -> "limit"
    parts = [str(part) for part in location if part not in ("body", "query", "path", "header")]
    return ".".join(parts) or "body"


def _default_phrase(status_code: int) -> str:
    try:
        return HTTPStatus(status_code).phrase
    except ValueError:
        return "Error"
