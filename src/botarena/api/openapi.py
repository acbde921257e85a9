"""The OpenAPI description as the API behaves: the error answers every operation can give,
the games a ``game`` field accepts, and streams described as what they send.

The framework documents only the success answer and 422. The rules below add what the
middleware, the dependencies and the services answer, so that a client (or a fuzzer) holding
the description is never surprised by a status code:

- every operation: 400 (a body that is not JSON, malformed multipart), 401 (a bad or expired
  token, or none where one is needed), 403 (not the owner, not an admin), 503 (the server is
  busy: ``Retry-After``);
- an operation on a resource named in its path, and every write: 404;
- every write: 409 (a state change the rules refuse), 413 (a body over the size limit), 429
  (a quota or the sign-in limit: ``Retry-After``).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

from fastapi import FastAPI
from fastapi.openapi.utils import get_openapi

from botarena.api.schema import ApiModel

_ERROR = "ErrorBody"
_ALL = {
    "400": "Malformed request: a body that is not JSON, or broken multipart",
    "401": "No token where one is needed, or a token that is invalid, revoked or expired",
    "403": "Not allowed for this user",
    "503": "The server is busy; try again after `Retry-After` seconds",
}
_NAMED = {"404": "Not found"}
_WRITES = {
    "404": "Not found",
    "409": "A conflict with the resource's current state",
    "413": "Request body too large",
    "429": "A quota or the sign-in limit was reached; `Retry-After` says when to try again",
}
_WRITE_METHODS = {"post", "put", "patch", "delete"}
_STREAMS = {"text/event-stream": {"schema": {"type": "string"}}}
# What a creating operation's answer names, and where: followed by the operations whose path
# names that parameter (OpenAPI links, which stateful fuzzers and client generators follow).
_CREATED = {
    ("post", "/api/v1/agents"): ("agent_id", "$response.body#/id"),
    ("post", "/api/v1/submissions"): ("submission_id", "$response.body#/submission/id"),
    ("post", "/api/v1/agents/{agent_id}/submissions"): (
        "submission_id",
        "$response.body#/submission/id",
    ),
    ("post", "/api/v1/matches"): ("match_id", "$response.body#/id"),
    ("post", "/api/v1/tournaments"): ("tournament_id", "$response.body#/id"),
}


class FieldProblem(ApiModel):
    field: str
    message: str


class ErrorBody(ApiModel):
    """Every error answer: one human sentence, perhaps more detail, perhaps the fields."""

    error: str
    message: str | None = None
    fields: list[FieldProblem] | None = None


def install_openapi(app: FastAPI, games: Callable[[], Iterable[str]]) -> None:
    """Make ``app`` describe itself with the rules above; ``games`` lists the game ids."""

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            schema = get_openapi(
                title=app.title,
                version=app.version,
                description=app.description,
                routes=app.routes,
            )
            complete(schema, sorted(games()))
            app.openapi_schema = schema
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]


def complete(schema: dict[str, Any], games: list[str]) -> None:
    """Add the error answers, the game enumeration and the streams to ``schema``."""
    components = schema.setdefault("components", {}).setdefault("schemas", {})
    for model in (FieldProblem, ErrorBody):
        definition = model.model_json_schema(
            by_alias=True, ref_template="#/components/schemas/{model}"
        )
        definition.pop("$defs", None)
        components[model.__name__] = definition
    for path, operations in schema.get("paths", {}).items():
        for method, operation in operations.items():
            _add_errors(path, method, operation)
            _mark_streams(operation)
            for parameter in operation.get("parameters", []):
                if parameter.get("name") == "game":
                    _enumerate(parameter.get("schema", {}), games)
    for definition in components.values():
        game = definition.get("properties", {}).get("game")
        if game is not None:
            _enumerate(game, games)
    _link(schema.get("paths", {}))


def _link(paths: dict[str, Any]) -> None:
    """Link each creating operation's answer to the operations that take what it made."""
    for (method, path), (parameter, pointer) in _CREATED.items():
        created = paths.get(path, {}).get(method, {}).get("responses", {}).get("201")
        if created is None:
            continue
        links = created.setdefault("links", {})
        for target, operations in paths.items():
            if "{" + parameter + "}" not in target:
                continue
            for operation in operations.values():
                operation_id = operation.get("operationId")
                if operation_id:
                    links[operation_id] = {
                        "operationId": operation_id,
                        "parameters": {parameter: pointer},
                    }


def error_answers(answers: dict[int, str]) -> dict[int | str, dict[str, Any]]:
    """An operation's own error answers beyond the rules above (e.g. a read's 409), for its
    route's ``responses``."""
    body = {"application/json": {"schema": {"$ref": f"#/components/schemas/{_ERROR}"}}}
    return {code: {"description": text, "content": body} for code, text in answers.items()}


def _add_errors(path: str, method: str, operation: dict[str, Any]) -> None:
    wanted = dict(_ALL)
    if "{" in path:
        wanted.update(_NAMED)
    if method in _WRITE_METHODS:
        wanted.update(_WRITES)
    responses = operation.setdefault("responses", {})
    body = {"application/json": {"schema": {"$ref": f"#/components/schemas/{_ERROR}"}}}
    for code, description in wanted.items():
        responses.setdefault(code, {"description": description, "content": body})


def _mark_streams(operation: dict[str, Any]) -> None:
    """An operation documented with ``text/event-stream`` sends nothing but the stream."""
    ok = operation.get("responses", {}).get("200", {})
    if "text/event-stream" in ok.get("content", {}):
        ok["content"] = dict(_STREAMS)


def _enumerate(schema: dict[str, Any], games: list[str]) -> None:
    """A plain string ``game`` becomes one of the known games (nullable ones stay so)."""
    if schema.get("type") == "string":
        schema["enum"] = games
        return
    for option in schema.get("anyOf", []):
        if option.get("type") == "string":
            option["enum"] = games
