"""The interactive API documentation at ``/docs``, from files shipped in the package.

Swagger UI's script and stylesheet are vendored under ``static/swagger-ui`` (see its README),
so the page works offline and loads nothing from a third party; its one inline script carries
a fresh nonce that the page's Content Security Policy names.
"""

from __future__ import annotations

import secrets
from pathlib import Path

from fastapi import FastAPI
from fastapi.openapi.docs import get_swagger_ui_html
from fastapi.responses import HTMLResponse
from fastapi.staticfiles import StaticFiles

from botarena.api.headers import page_policy

STATIC_DIR = Path(__file__).parent / "static"
STATIC_URL = "/static"
DOCS_URL = "/docs"
_SWAGGER = f"{STATIC_URL}/swagger-ui"
# Swagger UI would otherwise ask a public validator service for a badge.
_PARAMETERS = {"validatorUrl": None}


def install_docs(app: FastAPI) -> None:
    """Serve the vendored files under ``/static`` and the Swagger UI page at ``/docs``.

    The app must be made with ``docs_url=None`` (the framework's page loads from a CDN) and
    ``redoc_url=None`` (ReDoc is not shipped).
    """
    app.mount(STATIC_URL, StaticFiles(directory=STATIC_DIR), name="static")
    openapi_url = app.openapi_url or "/openapi.json"
    title = f"{app.title} API"

    @app.get(DOCS_URL, include_in_schema=False)
    def swagger_ui() -> HTMLResponse:
        nonce = secrets.token_urlsafe(16)
        page = get_swagger_ui_html(
            openapi_url=openapi_url,
            title=title,
            swagger_js_url=f"{_SWAGGER}/swagger-ui-bundle.js",
            swagger_css_url=f"{_SWAGGER}/swagger-ui.css",
            swagger_favicon_url=f"{_SWAGGER}/favicon-32x32.png",
            oauth2_redirect_url=None,
            swagger_ui_parameters=_PARAMETERS,
        )
        html = bytes(page.body).decode().replace("<script>", f'<script nonce="{nonce}">', 1)
        # The framework's page names no language; screen readers need it (axe: html-has-lang).
        html = html.replace("<html>", '<html lang="en">', 1)
        return HTMLResponse(html, headers={"Content-Security-Policy": page_policy(nonce)})
