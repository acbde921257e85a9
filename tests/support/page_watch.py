"""What a browser context did that a page must never do: reach past its server, or fail.

Every request (and web socket) whose origin is not the server's is aborted and recorded, so a
page that would load a CDN script, a web font or a tracker fails its test even when it
renders well from the browser's cache. Console errors (a Content-Security-Policy violation
is one) and uncaught exceptions are recorded too; the context's fixture fails the test on any
of them at its end.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from urllib.parse import urlsplit

import pytest
from playwright.sync_api import BrowserContext, ConsoleMessage, Route, WebError, WebSocketRoute


def origin(url: str) -> str:
    """``scheme://host:port`` of ``url``, the port spelled out."""
    parts = urlsplit(url)
    port = parts.port or {"http": 80, "https": 443, "ws": 80, "wss": 443}.get(parts.scheme, 0)
    scheme = {"ws": "http", "wss": "https"}.get(parts.scheme, parts.scheme)
    return f"{scheme}://{parts.hostname}:{port}"


@dataclass
class PageWatch:
    """One context's record of outside requests, console errors and uncaught exceptions."""

    server: str
    external: list[str] = field(default_factory=list)
    console_errors: list[str] = field(default_factory=list)
    page_errors: list[str] = field(default_factory=list)
    allowed_console: list[str] = field(default_factory=list)

    def attach(self, context: BrowserContext) -> None:
        """Guard ``context``: outside requests aborted, errors heard, service workers off."""
        context.route(self._is_external, self._abort)
        context.route_web_socket(self._is_external, self._close)
        context.on("console", self._console)
        context.on("weberror", self._web_error)

    def allow_console_error(self, fragment: str) -> None:
        """Accept console errors holding ``fragment`` (a test that visits a 404 page on
        purpose: Chromium logs "the server responded with a status of 404")."""
        self.allowed_console.append(fragment)

    def problems(self) -> list[str]:
        unexpected = [
            line
            for line in self.console_errors
            if not any(fragment in line for fragment in self.allowed_console)
        ]
        return (
            [f"request outside the server {self.server}: {url}" for url in self.external]
            + [f"console error: {line}" for line in unexpected]
            + [f"uncaught exception: {line}" for line in self.page_errors]
        )

    def assert_clean(self) -> None:
        """Fail the test when the pages of this context did any of it."""
        problems = self.problems()
        if problems:
            pytest.fail(
                "the browser saw what a page must never do (a console error that is expected "
                "is accepted with page_watch.allow_console_error):\n  " + "\n  ".join(problems),
                pytrace=False,
            )

    def _is_external(self, url: str) -> bool:
        if urlsplit(url).scheme not in ("http", "https", "ws", "wss"):
            return False
        return origin(url) != self.server

    def _abort(self, route: Route) -> None:
        self.external.append(route.request.url)
        route.abort("blockedbyclient")

    def _close(self, socket: WebSocketRoute) -> None:
        self.external.append(socket.url)
        socket.close(code=1008, reason="outside the server")

    def _console(self, message: ConsoleMessage) -> None:
        if message.type == "error":
            where = message.location.get("url", "")
            self.console_errors.append(f"{message.text} ({where})" if where else message.text)

    def _web_error(self, error: WebError) -> None:
        self.page_errors.append(str(error.error))
