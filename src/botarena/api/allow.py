"""``Allow`` on a 405 answer lists every method the path has.

The router answers 405 from the first route whose path matched, which names only that
route's methods: ``OPTIONS /api/v1/agents`` said ``Allow: POST`` though ``GET`` works too.
This middleware names the methods the API's own description gives the path (a path the
description does not know keeps the router's answer).
"""

from __future__ import annotations

import re
from typing import Any

from starlette.types import ASGIApp, Message, Receive, Scope, Send

_METHODS = ("get", "put", "post", "delete", "options", "head", "patch", "trace")


class AllowHeaderMiddleware:
    """Rewrites ``Allow`` on 405 answers with the methods the description lists."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app
        self._paths: list[tuple[re.Pattern[str], str]] | None = None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def send_allow(message: Message) -> None:
            if message["type"] == "http.response.start" and message["status"] == 405:
                allowed = self._allowed(scope)
                if allowed:
                    headers = [(k, v) for k, v in message.get("headers", []) if k != b"allow"]
                    headers.append((b"allow", allowed.encode()))
                    message = {**message, "headers": headers}
            await send(message)

        await self.app(scope, receive, send_allow)

    def _allowed(self, scope: Scope) -> str | None:
        if self._paths is None:
            openapi = getattr(scope.get("app"), "openapi", None)
            self._paths = _compile(openapi()["paths"]) if callable(openapi) else []
        path = scope["path"]
        return next((methods for pattern, methods in self._paths if pattern.fullmatch(path)), None)


def _compile(paths: dict[str, Any]) -> list[tuple[re.Pattern[str], str]]:
    """Each described path as a pattern (``{name}`` is one segment) and its methods."""
    compiled = []
    for template, operations in paths.items():
        pattern = re.sub(r"\\\{[^/]+?\\\}", "[^/]+", re.escape(template))
        methods = ", ".join(m.upper() for m in _METHODS if m in operations)
        compiled.append((re.compile(pattern), methods))
    return compiled
