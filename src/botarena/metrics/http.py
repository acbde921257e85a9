"""HTTP requests counted by route template (never the raw path: the label's values stay
bounded however many ids are asked for), method and status, with their latency."""

from __future__ import annotations

import time

from starlette.routing import Mount
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from botarena.metrics import definitions

# Requests no route matched (404s for any path, 405s) share one label value.
UNMATCHED = "<unmatched>"


class MetricsMiddleware:
    """Counts each answered request once its answer starts; latency is the time to that
    start (a live stream's first bytes, not its whole life)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        answered = False

        async def counting_send(message: Message) -> None:
            nonlocal answered
            if message["type"] == "http.response.start" and not answered:
                answered = True
                seconds = time.perf_counter() - started
                definitions.http_answered(
                    route_of(scope), scope["method"], message["status"], seconds
                )
            await send(message)

        try:
            await self.app(scope, receive, counting_send)
        except BaseException:
            if not answered:
                seconds = time.perf_counter() - started
                definitions.http_answered(route_of(scope), scope["method"], 500, seconds)
            raise


def route_of(scope: Scope) -> str:
    """The template of the route that matched (``/api/v1/matches/{match_id}``).

    A route of an included router knows only its own part of the template (``/matches/
    {match_id}``); the prefix it was included under is what the request's path holds before
    the route's part, which is the same for every request the route answers.
    """
    route = scope.get("route")
    template = getattr(route, "path_format", None) or getattr(route, "path", None)
    if route is None or not template:
        return UNMATCHED
    template = str(template)
    if isinstance(route, Mount):
        return template
    try:
        own = template.format_map({k: str(v) for k, v in scope.get("path_params", {}).items()})
    except (KeyError, ValueError, IndexError):
        return template
    path = str(scope.get("path", ""))
    if own and path.endswith(own):
        return path[: len(path) - len(own)] + template
    return template
