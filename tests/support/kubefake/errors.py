"""Errors as the API server reports them: a ``Status`` body with a code and a reason."""

from __future__ import annotations

from typing import Any

from .resources import Resource


class ApiError(Exception):
    """An error answered to the client as a ``Status`` object."""

    def __init__(
        self, code: int, reason: str, message: str, details: dict[str, Any] | None = None
    ) -> None:
        super().__init__(message)
        self.code = code
        self.reason = reason
        self.message = message
        self.details = details

    def status(self) -> dict[str, Any]:
        return status_body(self.code, self.reason, self.message, self.details)


def status_body(
    code: int, reason: str, message: str, details: dict[str, Any] | None = None
) -> dict[str, Any]:
    body: dict[str, Any] = {
        "kind": "Status",
        "apiVersion": "v1",
        "metadata": {},
        "status": "Failure",
        "message": message,
        "reason": reason,
        "code": code,
    }
    if details is not None:
        body["details"] = details
    return body


def _details(resource: Resource, name: str) -> dict[str, Any]:
    details: dict[str, Any] = {"name": name, "kind": resource.plural}
    if resource.group:
        details["group"] = resource.group
    return details


def not_found(resource: Resource, name: str) -> ApiError:
    return ApiError(
        404, "NotFound", f'{resource.qualified} "{name}" not found', _details(resource, name)
    )


def already_exists(resource: Resource, name: str) -> ApiError:
    return ApiError(
        409,
        "AlreadyExists",
        f'{resource.qualified} "{name}" already exists',
        _details(resource, name),
    )


def conflict(resource: Resource, name: str) -> ApiError:
    return ApiError(
        409,
        "Conflict",
        f'Operation cannot be fulfilled on {resource.qualified} "{name}": the object has been '
        "modified; please apply your changes to the latest version and try again",
        _details(resource, name),
    )


def gone(resource_version: str) -> ApiError:
    return ApiError(410, "Expired", f"too old resource version: {resource_version}")


def bad_request(message: str) -> ApiError:
    return ApiError(400, "BadRequest", message)


def invalid(resource: Resource, name: str, field: str, message: str) -> ApiError:
    details = _details(resource, name)
    details["kind"] = resource.kind
    details["causes"] = [{"reason": "FieldValueInvalid", "message": message, "field": field}]
    group = f".{resource.group}" if resource.group else ""
    return ApiError(
        422,
        "Invalid",
        f'{resource.kind}{group} "{name}" is invalid: {field}: {message}',
        details,
    )


def watch_list_forbidden() -> ApiError:
    """A watch with ``sendInitialEvents`` on a 1.31 server, whose WatchList feature gate is off
    by default: the list options are invalid (clients then list and watch as before)."""
    message = (
        "sendInitialEvents is forbidden for watch unless the WatchList feature gate is enabled"
    )
    return ApiError(
        422,
        "Invalid",
        f'ListOptions.meta.k8s.io "" is invalid: sendInitialEvents: Forbidden: {message}',
        {
            "group": "meta.k8s.io",
            "kind": "ListOptions",
            "causes": [
                {
                    "reason": "FieldValueForbidden",
                    "message": f"Forbidden: {message}",
                    "field": "sendInitialEvents",
                }
            ],
        },
    )
