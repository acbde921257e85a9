"""Puts the pages on the application: the session cookie, the static files, the routes and
HTML error pages. Called by the composition root before the API's ``/static`` is mounted."""

from __future__ import annotations

from fastapi import APIRouter, Depends, FastAPI

from botarena.settings import Settings
from botarena.web.account.routes import router as account_router
from botarena.web.admin.routes import router as admin_router
from botarena.web.agents.forms import router as agent_forms_router
from botarena.web.agents.routes import router as agents_router
from botarena.web.competitions.routes import router as competitions_router
from botarena.web.csrf import check_csrf
from botarena.web.errors import install_page_errors
from botarena.web.matches.routes import router as matches_router
from botarena.web.me.routes import router as me_router
from botarena.web.notifications.routes import router as notifications_router
from botarena.web.renders import SharedRenders
from botarena.web.routes import router as pages_router
from botarena.web.sessions import WebSessionMiddleware, secret_key
from botarena.web.static_files import VersionedStaticFiles
from botarena.web.teams.routes import router as teams_router
from botarena.web.templating import STATIC_URL, Templates
from botarena.web.tournaments.routes import router as tournaments_router


def web_router() -> APIRouter:
    """Every page route; each POST among them needs the session's CSRF token."""
    router = APIRouter(include_in_schema=False, dependencies=[Depends(check_csrf)])
    router.include_router(pages_router)
    router.include_router(account_router)
    # The forms first: /agents/new is not an agent's page.
    router.include_router(agent_forms_router)
    router.include_router(agents_router)
    router.include_router(matches_router)
    router.include_router(me_router)
    router.include_router(notifications_router)
    router.include_router(teams_router)
    router.include_router(tournaments_router)
    router.include_router(competitions_router)
    router.include_router(admin_router)
    return router


def install_web(app: FastAPI, settings: Settings) -> None:
    """Mount ``/static/web`` (before any ``/static`` mount, which would hide it), add the
    session middleware and the page routes; the API's error handlers must be installed."""
    templates = Templates()
    app.state.web_templates = templates
    app.state.web_renders = SharedRenders()
    app.mount(STATIC_URL, VersionedStaticFiles(templates), name="web-static")
    public_https = (settings.public_url or "").lower().startswith("https://")
    app.add_middleware(
        WebSessionMiddleware, secret=lambda: secret_key(settings), public_https=public_https
    )
    app.include_router(web_router())
    install_page_errors(app, templates)
