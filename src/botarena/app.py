"""The FastAPI application factory: routers, error bodies, middleware and start-up."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import structlog
from fastapi import FastAPI
from fastapi.responses import JSONResponse
from sqlalchemy import Engine, text

from botarena import __version__
from botarena.accounts.limiter import LoginLimiter
from botarena.accounts.routes import router as accounts_router
from botarena.agents.models import SubmissionStatusEvent
from botarena.agents.routes import router as agents_router
from botarena.agents.teams import AgentTeams
from botarena.api.admission import Admission, pool_limits, widen_thread_limit
from botarena.api.allow import AllowHeaderMiddleware
from botarena.api.docs import install_docs
from botarena.api.errors import install_error_handlers
from botarena.api.headers import SecurityHeadersMiddleware
from botarena.api.middleware import BodyLimitMiddleware, RequestContextMiddleware
from botarena.api.openapi import install_openapi
from botarena.audit.deps import journal_for
from botarena.audit.routes import router as audit_router
from botarena.builds.backends.base import BuildBackend
from botarena.builds.backends.local import LocalBackend
from botarena.builds.feed import BuildFeeds, status_notices
from botarena.builds.routes import router as builds_router
from botarena.builds.routes import status_router as build_status_router
from botarena.builds.workers import BuildWorkers
from botarena.competitions.routes import router as competitions_router
from botarena.db import migrate
from botarena.db.engine import SessionFactory, build_engine, build_session_factory
from botarena.events import EventBus
from botarena.finals.director import FinalsDirector
from botarena.finals.routes import router as finals_router
from botarena.games.registry import known_games
from botarena.health import readiness
from botarena.ladder.routes import router as ladder_router
from botarena.ladder.scheduler import LadderScheduler
from botarena.matches.events import match_status_notices
from botarena.matches.models import MatchStatusEvent
from botarena.matches.routes import router as matches_router
from botarena.matches.running import start_matches
from botarena.monitoring import install_metrics
from botarena.notifications.routes import router as notifications_router
from botarena.notifications.triggers import Triggers
from botarena.notifications.workers import NotificationWorkers
from botarena.ratings.events import leaderboard_notices
from botarena.ratings.hook import RatingsHook
from botarena.ratings.models import Rating
from botarena.ratings.routes import router as ratings_router
from botarena.settings import Settings
from botarena.storage import private_data_dir
from botarena.teams.membership import TeamMembership
from botarena.teams.routes import router as teams_router
from botarena.tournaments.director import TournamentDirector
from botarena.tournaments.events import game_notices, tournament_notices
from botarena.tournaments.models import Tournament, TournamentGame
from botarena.tournaments.routes import router as tournaments_router
from botarena.web.install import install_web

API_PREFIX = "/api/v1"
# Room for the multipart framing around an uploaded archive.
_MULTIPART_OVERHEAD = 1024 * 1024

log = structlog.get_logger(__name__)


def build_backend(settings: Settings) -> BuildBackend:
    """The configured build backend."""
    if settings.build_backend == "docker":
        # Imported here: the docker SDK is loaded only where it is used.
        from botarena.builds.backends.docker import DockerBackend

        return DockerBackend(settings)
    if settings.build_backend == "kubernetes":
        from botarena.builds.backends.kubernetes import KubernetesBackend

        return KubernetesBackend(settings)
    return LocalBackend(settings.data_dir, egress_allow=settings.build_egress_allow)


def event_bus(engine: Engine, *factories: SessionFactory) -> EventBus:
    """The process's event bus on ``engine``: what sessions of ``factories`` commit to a
    status history, a rating or a tournament is published (builds, matches, leaderboards and
    tournaments)."""
    bus = EventBus(engine)
    bus.watch(SubmissionStatusEvent, status_notices)
    bus.watch(MatchStatusEvent, match_status_notices)
    bus.watch(Rating, leaderboard_notices, changes=True)
    bus.watch(Tournament, tournament_notices, changes=True)
    bus.watch(TournamentGame, game_notices, changes=True)
    for factory in factories:
        bus.attach(factory)
    return bus


def create_app(settings: Settings, *, background: bool = True) -> FastAPI:
    """A new application on its own engine; migrations run when it starts.

    ``background``: when it starts, it also starts the build workers, the match dispatcher
    (and embedded executor), the tournaments director and the ladder scheduler that the
    settings enable. Off in the HTTP workers of ``botarena serve --workers N``, whose
    supervising process runs them once for all (:func:`start_background`).
    """
    engine = build_engine(settings.resolved_database_url, pool_limits(settings))

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        widen_thread_limit(settings)
        prepare(app)
        if background:
            start_background(app)
        app.state.ready = True
        on_ready = getattr(app.state, "on_ready", None)
        if callable(on_ready):
            on_ready()
        try:
            yield
        finally:
            app.state.ready = False
            stop_background(app)
            app.state.events.stop()
            engine.dispose()

    app = FastAPI(
        title="botarena",
        version=__version__,
        description="A self-hostable platform for AI-agent competitions.",
        lifespan=lifespan,
        # Served from the package instead (api/docs.py): the framework's pages load a CDN.
        docs_url=None,
        redoc_url=None,
    )
    app.state.settings = settings
    app.state.engine = engine
    app.state.session_factory = build_session_factory(engine)
    app.state.read_session_factory = build_session_factory(engine, read=True)
    # For the build status, the most polled read: one statement, no transaction around it.
    app.state.status_session_factory = build_session_factory(engine, read=True, autocommit=True)
    # Every live stream of this process hears the bus; the workers started below publish on it.
    app.state.events = event_bus(
        engine,
        app.state.session_factory,
        app.state.read_session_factory,
        app.state.status_session_factory,
    )
    # Builds ending, challenges and tournaments moving on queue their notifications in the
    # transaction that writes them.
    triggers = Triggers(settings)
    triggers.attach(app.state.session_factory)
    triggers.attach(app.state.read_session_factory)
    app.state.build_feeds = BuildFeeds(app.state.events, app.state.read_session_factory, settings)
    app.state.admission = Admission(
        limit=settings.max_concurrent_requests,
        queue=settings.max_queued_requests,
        wait=settings.request_queue_timeout,
    )
    app.state.ready = False
    app.state.builds = None
    app.state.matches = None
    app.state.ladder = None
    app.state.tournaments = None
    app.state.finals = None
    app.state.notifications = None
    # Failed sign-ins are counted in this process's memory, per application.
    app.state.login_limiter = LoginLimiter(settings.login_max_failures, settings.login_window)
    # Accounts come before the audit log: this hands them the audit log as their journal.
    app.state.account_journal = journal_for
    # Teams come before agents: this hands them what their rules need of agents.
    app.state.team_agents = AgentTeams
    app.state.competition_membership = TeamMembership
    install_error_handlers(app)
    app.add_middleware(BodyLimitMiddleware, limit=settings.archive_max_bytes + _MULTIPART_OVERHEAD)
    app.add_middleware(RequestContextMiddleware)
    app.add_middleware(SecurityHeadersMiddleware)
    app.add_middleware(AllowHeaderMiddleware)
    # Starlette tries the routes in order, and the pages and the API are some 150 of them
    # (about 150 µs a request to pass them all): the most polled route comes first.
    app.include_router(build_status_router, prefix=API_PREFIX)
    install_metrics(app, app.state.read_session_factory)
    # The pages' /static/web first: the API's /static mount would otherwise hide it.
    install_web(app, settings)
    install_docs(app)
    install_openapi(app, lambda: known_games().keys())
    app.include_router(accounts_router, prefix=API_PREFIX)
    app.include_router(audit_router, prefix=API_PREFIX)
    app.include_router(competitions_router, prefix=API_PREFIX)
    app.include_router(finals_router, prefix=API_PREFIX)
    app.include_router(agents_router, prefix=API_PREFIX)
    app.include_router(builds_router, prefix=API_PREFIX)
    app.include_router(matches_router, prefix=API_PREFIX)
    app.include_router(ratings_router, prefix=API_PREFIX)
    app.include_router(ladder_router, prefix=API_PREFIX)
    app.include_router(tournaments_router, prefix=API_PREFIX)
    app.include_router(notifications_router, prefix=API_PREFIX)
    app.include_router(teams_router, prefix=API_PREFIX)

    @app.get("/healthz", tags=["health"])
    def healthz() -> dict[str, str]:
        """200 once the server is ready to serve: migrated and reaching its database."""
        with engine.connect() as connection:
            connection.execute(text("SELECT 1"))
        return {"status": "ok"}

    @app.get("/readyz", tags=["health"], response_model=None)
    def readyz() -> JSONResponse:
        """200 when this server can do its work now; 503 naming each failing check (the
        database, its migrations, the build backend, the sandbox) and why."""
        checks = readiness(engine, settings, getattr(app.state, "builds", None))
        failing = [c.name for c in checks if c.ok is False]
        body = {
            "status": "unavailable" if failing else "ready",
            "failing": failing,
            "checks": {c.name: {"ok": c.ok, "detail": c.detail} for c in checks},
        }
        return JSONResponse(body, status_code=503 if failing else 200)

    return app


def prepare(app: FastAPI) -> None:
    """What every process of ``app`` does first: its data folder, the database migrated, its
    event bus started."""
    settings: Settings = app.state.settings
    engine: Engine = app.state.engine
    private_data_dir(settings)
    migrate.upgrade(engine)
    log.info("database ready", backend=engine.dialect.name, revision=migrate.head_revision())
    app.state.events.start()


def start_background(app: FastAPI) -> None:
    """Start the background services the settings enable, on ``app``'s database and bus."""
    settings: Settings = app.state.settings
    if settings.builds_enabled:
        builds = BuildWorkers(app.state.session_factory, settings, build_backend(settings))
        builds.start()
        app.state.builds = builds
        app.state.on_build_queued = builds.wake
    if settings.matches_enabled:
        app.state.matches = start_matches(
            app.state.session_factory, settings, RatingsHook(), bus=app.state.events
        )
        app.state.on_match_queued = app.state.matches.wake
        # Tournaments move on as their matches end, so they run where matches are dispatched.
        director = TournamentDirector(app.state.session_factory, settings)
        director.on_queued = app.state.matches.wake
        director.start()
        app.state.tournaments = director
        finals = FinalsDirector(app.state.session_factory, settings)
        finals.start()
        app.state.finals = finals
    if settings.ladder_enabled:
        ladder = LadderScheduler(app.state.session_factory, settings)
        if app.state.matches is not None:
            ladder.on_queued = app.state.matches.wake
        ladder.start()
        app.state.ladder = ladder
    if settings.notifications_enabled:
        notifications = NotificationWorkers(app.state.session_factory, settings)
        notifications.start()
        app.state.notifications = notifications
    # Once per deployment: a process serving HTTP only does not log this.
    log.info(
        "background services started",
        builds=settings.builds_enabled,
        matches=settings.matches_enabled,
        ladder=settings.ladder_enabled,
    )


def stop_background(app: FastAPI) -> None:
    """Stop what :func:`start_background` started (each waits for its threads)."""
    if app.state.builds is not None:
        app.state.builds.stop()
    if app.state.ladder is not None:
        app.state.ladder.stop()
    if app.state.tournaments is not None:
        app.state.tournaments.stop()
    if app.state.finals is not None:
        app.state.finals.stop()
    if app.state.matches is not None:
        app.state.matches.stop()
    if app.state.notifications is not None:
        app.state.notifications.stop()
