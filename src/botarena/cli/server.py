"""Commands that run the platform itself: ``serve`` and ``migrate``."""

from __future__ import annotations

import gc
import ipaddress
from typing import Annotated

import typer

from botarena.cli.output import console, fail

# The server's own modules are imported inside the commands: every other command then starts
# without loading the web framework and the database toolkit.


def settle_memory() -> None:
    """Move what start-up made (modules, routes, templates) out of the garbage collector's
    sight: it lives as long as the server, and a full collection that walks it took a page
    from 45 to 140 ms (one request in five, with a thousand agents on the board)."""
    gc.collect()
    gc.freeze()


def serve(
    host: Annotated[str, typer.Option(help="Address to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port to listen on.", min=1, max=65535)] = 8000,
    demo: Annotated[
        bool, typer.Option("--demo", help="Create a demo admin and print a fresh token for it.")
    ] = False,
    public: Annotated[
        bool,
        typer.Option("--public", help="Allow an address other machines can reach (e.g. 0.0.0.0)."),
    ] = False,
    workers: Annotated[
        int,
        typer.Option(
            help="HTTP worker processes sharing the port (PostgreSQL only when more than one); "
            "builds, matches, tournaments and the ladder run once, in this process.",
            min=1,
        ),
    ] = 1,
) -> None:
    """Run the API server (migrating the database first)."""
    if not public and not _is_loopback(host):
        fail(
            f"Refusing to listen on {host}: other machines could reach this server",
            "Anyone who reaches it could use the API (and, with --demo, the demo admin whose "
            "token is printed at start). Pass --public to serve other machines on purpose, "
            "behind TLS; or listen on 127.0.0.1.",
            code=2,
        )
    from botarena.settings import get_settings

    settings = get_settings()
    if workers > 1:
        from botarena.cli.workers import fresh_metrics_dir, refusal

        refused = refusal(settings, workers)
        if refused is not None:
            fail(f"Refusing to serve with {workers} workers", refused, code=2)
        # Before anything that makes metrics is imported, here and in every worker.
        fresh_metrics_dir(settings)
    import structlog
    import uvicorn

    from botarena.accounts.login_links import LOGIN_LINK_LIFETIME
    from botarena.app import create_app
    from botarena.demo import (
        DEMO_GAME,
        DEMO_USER,
        Activator,
        demo_login_link,
        demo_token,
        submit_examples,
    )
    from botarena.logging import configure_logging
    from botarena.readiness import unavailable
    from botarena.storage import keep_files_private

    configure_logging(settings.log_level, settings.log_format)
    log = structlog.get_logger("botarena.serve")
    keep_files_private()
    app = create_app(settings)
    url = f"http://{_url_host(host)}:{port}"

    def announce() -> None:
        console.print(f"botarena is serving at [bold]{url}/[/] (API docs: {url}/docs)")
        if not _is_loopback(host):
            console.print(f"listening on {host}: reachable from other machines (--public)")
        console.print(f"database: {_safe_url(settings.resolved_database_url)}", highlight=False)
        problems = unavailable(settings, app.state.builds)
        for problem in problems:
            # On the terminal, not only in the log: a person starting the server reads this.
            console.print(
                f"[bold red]warning:[/] {problem.sentence()}", highlight=False, soft_wrap=True
            )
            log.warning("part of the platform cannot run", part=problem.part, reason=problem.reason)
        if demo:
            factory = app.state.session_factory
            token = demo_token(factory, settings.token_days)
            console.print(f"demo admin: [bold]{DEMO_USER}[/]; its token:")
            console.print(token, highlight=False, soft_wrap=True)
            console.print(f"try: curl -H 'Authorization: Bearer {token}' {url}/api/v1/me")
            # Printed, never logged: the link signs the demo admin in (once, for minutes).
            link = demo_login_link(factory, url)
            minutes = int(LOGIN_LINK_LIFETIME.total_seconds() // 60)
            console.print(
                f"the web UI at {url}/, signed in as {DEMO_USER} (this link works once, "
                f"for {minutes} minutes):"
            )
            console.print(link, highlight=False, soft_wrap=True)
            submitted = submit_examples(factory, settings)
            if submitted and settings.builds_enabled:
                app.state.demo = Activator(factory, settings)
                app.state.demo.start()
                wake = getattr(app.state, "on_build_queued", None)
                if callable(wake):
                    wake()
            waits = (
                " (builds cannot run yet: see the warning above)"
                if any(problem.part == "builds" for problem in problems)
                else ""
            )
            console.print(
                f"demo: {len(submitted)} example agents submitted; they play the ladder once "
                f"built{waits}. Leaderboard: {url}/api/v1/leaderboard?game={DEMO_GAME}",
                highlight=False,
            )

    if workers > 1:
        from botarena.cli.workers import run_workers

        run_workers(app, host, port, workers, announce)
        return
    app.state.on_ready = announce
    settle_memory()
    uvicorn.run(app, host=host, port=port, log_config=None, access_log=False)


def migrate_command() -> None:
    """Apply every pending database migration and exit."""
    from botarena.db import migrate
    from botarena.db.engine import build_engine
    from botarena.logging import configure_logging
    from botarena.settings import get_settings
    from botarena.storage import keep_files_private, private_data_dir

    settings = get_settings()
    configure_logging(settings.log_level, settings.log_format)
    keep_files_private()
    private_data_dir(settings)
    engine = build_engine(settings.resolved_database_url)
    try:
        before = migrate.current_revision(engine)
        migrate.upgrade(engine)
        after = migrate.current_revision(engine)
    finally:
        engine.dispose()
    if before == after:
        console.print(f"database is up to date (revision {after})")
    else:
        console.print(f"database migrated from {before or 'empty'} to {after}")


def _is_loopback(host: str) -> bool:
    """Whether ``host`` is reachable from this machine only (a name other than localhost
    might resolve to anything, so it counts as public)."""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def _url_host(host: str) -> str:
    # The address really listened on, a wildcard included: the banner must not claim less.
    return f"[{host}]" if ":" in host else host


def _safe_url(url: str) -> str:
    from sqlalchemy.engine import make_url

    return make_url(url).render_as_string(hide_password=True)


ratings_app = typer.Typer(help="Ratings kept in the database.", no_args_is_help=True)


@ratings_app.command("recompute")
def ratings_recompute() -> None:
    """Rebuild every rating from the history of finished ranked matches (audited)."""
    import time

    from botarena.audit.actions import Action
    from botarena.audit.context import ActionContext
    from botarena.audit.service import AuditLog
    from botarena.db import migrate
    from botarena.db.engine import build_engine, build_session_factory
    from botarena.logging import configure_logging
    from botarena.ratings.book import recompute
    from botarena.settings import get_settings

    settings = get_settings()
    configure_logging(settings.log_level, settings.log_format)
    engine = build_engine(settings.resolved_database_url)
    try:
        migrate.upgrade(engine)
        started = time.perf_counter()
        with build_session_factory(engine)() as session:
            applied = recompute(session)
            AuditLog(session).record(
                ActionContext.system(),
                Action.RATINGS_RECOMPUTED,
                target_type="ratings",
                target_id=None,
                details={"matches": applied},
            )
            session.commit()
        took = time.perf_counter() - started
    finally:
        engine.dispose()
    console.print(f"ratings recomputed from {applied} ranked matches in {took:.2f} s")
