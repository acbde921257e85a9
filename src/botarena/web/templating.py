"""The templates and the URL helpers they share; a page, or one block of it, rendered.

One Jinja2 environment per application, autoescaping everything. A page template extends
``base.html`` and wraps each part that changes on its own in a named block: the full page
renders the template, an htmx request (``HX-Request``) gets that block alone, and a live
update sends the same block over SSE (:mod:`botarena.web.live`), rendered by
``jinja2-fragments``.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape
from jinja2_fragments import render_block

TEMPLATES_DIR = Path(__file__).parent / "templates"
STATIC_DIR = Path(__file__).parent / "static"
STATIC_URL = "/static/web"


def game_url(game: str, **params: object) -> str:
    """A game's leaderboard, with its query (sort, page) when given."""
    return _with_query(f"/games/{game}", params)


def agent_url(agent_id: str) -> str:
    return f"/agents/{agent_id}"


def match_url(match_id: str) -> str:
    return f"/matches/{match_id}"


def submission_url(submission_id: str) -> str:
    return f"/submissions/{submission_id}"


def tournament_url(tournament_id: str) -> str:
    return f"/tournaments/{tournament_id}"


def live_url(path: str, **params: object) -> str:
    """The SSE stream of a page's live blocks (``/live/...``)."""
    return _with_query(f"/live/{path.lstrip('/')}", params)


def _with_query(path: str, params: Mapping[str, object]) -> str:
    kept = {key: value for key, value in params.items() if value not in (None, "")}
    return f"{path}?{urlencode(kept)}" if kept else path


class Templates:
    """The environment, and the versions of the static files (for their long-cached URLs)."""

    def __init__(self) -> None:
        self.env = Environment(
            loader=FileSystemLoader(TEMPLATES_DIR),
            autoescape=select_autoescape(default=True, default_for_string=True),
            undefined=StrictUndefined,
            trim_blocks=True,
            lstrip_blocks=True,
        )
        self._versions: dict[str, str] = {}
        self.env.globals.update(
            static_url=self.static_url,
            game_url=game_url,
            agent_url=agent_url,
            match_url=match_url,
            submission_url=submission_url,
            tournament_url=tournament_url,
            live_url=live_url,
        )

    def static_url(self, name: str) -> str:
        """``/static/web/<name>?v=<hash of its content>``: cached for a year, and a new
        release with a changed file has a new URL."""
        version = self.version_of(name)
        if version is None:
            raise ValueError(f"no static file {name}")
        return f"{STATIC_URL}/{name}?v={version}"

    def version_of(self, name: str) -> str | None:
        """The content hash of a static file (the ``v`` of its URL); None for no such file."""
        version = self._versions.get(name)
        if version is None:
            root = STATIC_DIR.resolve()
            path = (root / name).resolve()
            if not path.is_relative_to(root) or not path.is_file():
                return None
            version = hashlib.sha256(path.read_bytes()).hexdigest()[:12]
            self._versions[name] = version
        return version

    def page(self, template: str, context: Mapping[str, Any]) -> str:
        return self.env.get_template(template).render(context)

    def block(self, template: str, block: str, context: Mapping[str, Any]) -> str:
        return render_block(self.env, template, block, context)
