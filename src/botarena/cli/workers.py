"""``botarena serve --workers N``: N HTTP worker processes on one port, one supervisor.

The supervising process (the one ``botarena serve`` started) migrates the database, runs the
background services once for the whole deployment (build workers, the match dispatcher and
its embedded executor, the tournaments director, the ladder scheduler) and starts N uvicorn
worker processes that share the listening socket and only serve HTTP. Live updates reach
every worker's streams because the event bus relays through PostgreSQL ``LISTEN``/``NOTIFY``
(the build workers' log notices and every committed status); so does a worker's "a build was
queued": the supervisor hears the status notice and wakes its services. On SQLite the bus
reaches one process only, so several workers are refused there (:func:`refusal`).
"""

from __future__ import annotations

import ctypes
import os
import shutil
import signal
import sys
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

from botarena.settings import Settings

if TYPE_CHECKING:
    from fastapi import FastAPI

    from botarena.events import Notice

# The import string each worker process loads (a factory: no app is made on import).
WORKER_APP = "botarena.cli.workers:http_app"
METRICS_ENV = "PROMETHEUS_MULTIPROC_DIR"
_PR_SET_PDEATHSIG = 1


def refusal(settings: Settings, workers: int) -> str | None:
    """Why ``workers`` processes cannot serve this deployment, or None when they can."""
    if workers > 1 and not settings.resolved_database_url.startswith("postgresql"):
        return (
            f"--workers {workers} needs PostgreSQL: on SQLite, live updates (build logs, match "
            "and leaderboard pages) reach only the process that made them, so a browser served "
            "by another worker would never hear them. Set BOTARENA_DATABASE_URL to a "
            "PostgreSQL database, or serve with one worker."
        )
    return None


def fresh_metrics_dir(settings: Settings) -> Path:
    """An empty private folder in the data folder for every process's metrics, named in
    ``PROMETHEUS_MULTIPROC_DIR`` for this process and the workers it starts. Set before
    anything that makes metrics is imported: the client reads it once, at import."""
    folder = Path(settings.data_dir) / "metrics"
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir(mode=0o700, parents=True)
    os.environ[METRICS_ENV] = str(folder)
    return folder


def http_app() -> FastAPI:
    """The application of one HTTP worker process: no background services of its own."""
    from botarena.app import create_app
    from botarena.cli.server import settle_memory
    from botarena.logging import configure_logging
    from botarena.settings import get_settings
    from botarena.storage import keep_files_private

    _end_with_parent()
    settings = get_settings()
    configure_logging(settings.log_level, settings.log_format)
    keep_files_private()
    app = create_app(settings, background=False)
    settle_memory()
    return app


def run_workers(
    app: FastAPI, host: str, port: int, workers: int, announce: Callable[[], None]
) -> None:
    """Run ``app``'s background services here and ``workers`` HTTP processes on ``host:port``
    until SIGTERM or Ctrl-C; then stop the workers, then the services."""
    import uvicorn
    from uvicorn.supervisors import Multiprocess

    from botarena.app import prepare, start_background, stop_background

    config = uvicorn.Config(
        WORKER_APP,
        factory=True,
        host=host,
        port=port,
        workers=workers,
        log_config=None,
        access_log=False,
    )
    prepare(app)
    try:
        start_background(app)
        _wake_on_notices(app)
        listening = config.bind_socket()
        announce()
        # Handles SIGINT, SIGTERM and SIGHUP: each worker is sent SIGTERM and awaited.
        Multiprocess(config, sockets=[listening]).run()
    finally:
        stop_background(app)
        app.state.events.stop()
        app.state.engine.dispose()


def _wake_on_notices(app: FastAPI) -> None:
    """Wake the build workers and the dispatcher when any worker process queued work (their
    own polling would find it within a second; this saves that second)."""
    from botarena.builds.feed import TOPIC_PREFIX as SUBMISSIONS
    from botarena.matches.events import TOPIC_PREFIX as MATCHES

    bus = app.state.events
    builds, matches = app.state.builds, app.state.matches

    def heard(wake: Callable[[], None], status: str) -> Callable[[Notice], None]:
        def on_notice(notice: Notice) -> None:
            if notice.data.get("status") == status:
                wake()

        return on_notice

    if builds is not None:
        bus.subscribe(SUBMISSIONS, heard(builds.wake, "pending"), prefix=True)
    if matches is not None:
        bus.subscribe(MATCHES, heard(matches.wake, "queued"), prefix=True)


def _end_with_parent() -> None:
    """Have Linux end this worker if its supervisor dies without stopping it (a SIGKILL)."""
    if not sys.platform.startswith("linux"):
        return
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(_PR_SET_PDEATHSIG, signal.SIGTERM)
    except (OSError, AttributeError):
        return
    if os.getppid() == 1:  # the supervisor was gone already
        os.kill(os.getpid(), signal.SIGTERM)
