"""The pages' own static files under ``/static/web``, cached for a year when versioned.

A URL made by :meth:`Templates.static_url` carries the file's content hash (``?v=``): such
an answer is ``immutable`` for a year. Any other (an old version, no version) must be checked
again each time.
"""

from __future__ import annotations

import os

from starlette.responses import Response
from starlette.staticfiles import StaticFiles
from starlette.types import Scope

from botarena.web.templating import STATIC_DIR, Templates

LONG_CACHE = "public, max-age=31536000, immutable"


class VersionedStaticFiles(StaticFiles):
    """Starlette's static files, with the cache header that the URL's version allows."""

    def __init__(self, templates: Templates) -> None:
        super().__init__(directory=STATIC_DIR)
        self.templates = templates

    async def get_response(self, path: str, scope: Scope) -> Response:
        response = await super().get_response(path, scope)
        if response.status_code in (200, 304):
            query = scope.get("query_string", b"").decode("latin-1")
            wanted = self.templates.version_of(path.replace(os.sep, "/"))
            versioned = wanted is not None and query == f"v={wanted}"
            response.headers["Cache-Control"] = LONG_CACHE if versioned else "no-cache"
        return response
