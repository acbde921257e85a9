"""A tiny web server for the replay viewer alone: the static folder, and pages embedding a
replay the way the match page does (the shipped template partial), under a strict CSP."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

from jinja2 import Environment, FileSystemLoader

import botarena

WEB = Path(botarena.__file__).parent / "web"
STATIC = WEB / "static"
CSP = "default-src 'self'; script-src 'self'; style-src 'self'; frame-ancestors 'none'"
TYPES = {".js": "text/javascript", ".css": "text/css", ".json": "application/json"}
PAGE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Match</title>
<meta name="viewport" content="width=device-width, initial-scale=1">
<link rel="stylesheet" href="/static/replay/replay.css">
<script type="module" src="/static/replay/player.js"></script></head>
<body><main><h1>Match</h1>
<form role="search"><label for="q">Search</label> <input id="q" name="q"></form>
{viewer}
</main></body></html>"""


@dataclass
class ReplayPages:
    """Pages by name, each a replay's view and the raw replay it came from."""

    base_url: str = ""
    views: dict[str, dict[str, Any]] = field(default_factory=dict)
    replays: dict[str, dict[str, Any]] = field(default_factory=dict)

    def add(self, name: str, view: dict[str, Any], replay: dict[str, Any]) -> str:
        """Serve ``view`` at /match/<name>; returns the page's URL."""
        self.views[name], self.replays[name] = view, replay
        return f"{self.base_url}/match/{name}"

    def page(self, name: str) -> str:
        environment = Environment(loader=FileSystemLoader(WEB / "templates"), autoescape=True)
        viewer = environment.get_template("replay/viewer.html").render(
            view=self.views[name], download_url=f"/replay/{name}.json"
        )
        return PAGE.format(viewer=viewer)


def _handler(pages: ReplayPages) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            path = self.path.split("?", 1)[0]
            body: bytes | None = None
            kind = "text/html; charset=utf-8"
            if path.startswith("/static/"):
                file = (STATIC / path.removeprefix("/static/")).resolve()
                if file.is_file() and file.is_relative_to(STATIC):
                    body, kind = file.read_bytes(), TYPES.get(file.suffix, "text/plain")
            elif path.startswith("/match/") and path[7:] in pages.views:
                body = pages.page(path[7:]).encode()
            elif path.startswith("/replay/") and path[8:-5] in pages.replays:
                body, kind = json.dumps(pages.replays[path[8:-5]]).encode(), TYPES[".json"]
            if path == "/favicon.ico":  # asked by the browser, not by the page
                body, kind = b"", "image/x-icon"
            if body is None:
                self.send_error(404)
                return
            self.send_response(200)
            self.send_header("Content-Type", kind)
            self.send_header("Content-Security-Policy", CSP)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, format: str, *args: Any) -> None:
            return  # quiet tests

    return Handler


@contextmanager
def serve_replay_pages() -> Iterator[ReplayPages]:
    """The server on a free local port, stopped on exit."""
    pages = ReplayPages()
    server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(pages))
    pages.base_url = f"http://127.0.0.1:{server.server_address[1]}"
    thread = threading.Thread(target=server.serve_forever, name="replay-pages", daemon=True)
    thread.start()
    try:
        yield pages
    finally:
        server.shutdown()
        server.server_close()
        thread.join()
