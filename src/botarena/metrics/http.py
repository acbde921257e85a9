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
    """The template of the route that matched (``/api/v1/matches/{match_id}``)."""
    route = scope.get("route")
    if route is None:
        return UNMATCHED
    path = str(getattr(route, "path", "") or "")
    if isinstance(route, Mount):
        return f"{path}/{{path}}"
    return path or UNMATCHED
