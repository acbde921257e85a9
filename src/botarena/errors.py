"""Errors that the services raise and the API turns into its JSON error body.

Every error carries one human sentence (``error``), optionally more detail (``message``) and
per-field problems (``fields``); the HTTP status code belongs to the error's kind.
"""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class FieldProblem:
    """One problem with one input field."""

    field: str
    message: str


@dataclass
class AppError(Exception):
    """Base of every error a caller of the platform is meant to see."""

    error: str
    message: str | None = None
    fields: list[FieldProblem] = field(default_factory=list)
    status_code: int = 400
    headers: dict[str, str] | None = None

    def __str__(self) -> str:
        return self.error if self.message is None else f"{self.error} ({self.message})"


def bad_request(error: str, message: str | None = None, field_name: str | None = None) -> AppError:
    """400: the request is understood but cannot be done as asked."""
    problems = [FieldProblem(field_name, error)] if field_name else []
    return AppError(error, message, problems, 400)


def invalid(field_name: str, error: str) -> AppError:
    """422: one field breaks a rule (a refused URL, a taken name's format, an unknown game)."""
    return AppError(error, None, [FieldProblem(field_name, error)], 422)


def unauthorized(error: str = "Authentication required") -> AppError:
    """401: no usable credentials."""
    return AppError(error, "Send a valid token as 'Authorization: Bearer <token>'.", [], 401)


def forbidden(error: str) -> AppError:
    """403: a public resource that this user may not act on."""
    return AppError(error, None, [], 403)


def not_found(error: str, message: str | None = None) -> AppError:
    """404: missing, or private to someone else (which is not revealed)."""
    return AppError(error, message, [], 404)


def conflict(error: str, message: str | None = None) -> AppError:
    """409: the request clashes with the current state (a taken name, an illegal transition)."""
    return AppError(error, message, [], 409)


def too_large(error: str, message: str | None = None) -> AppError:
    """413: the upload is over a configured limit."""
    return AppError(error, message, [], 413)


def too_many(error: str, message: str | None, retry_after_seconds: int) -> AppError:
    """429: over a quota; ``Retry-After`` says when the next request may succeed."""
    return AppError(error, message, [], 429, {"Retry-After": str(max(retry_after_seconds, 1))})
