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

import structlog

from botarena.settings import Settings

if TYPE_CHECKING:
    from socket import socket

    from fastapi import FastAPI
    from uvicorn import Config
    from uvicorn.supervisors import Multiprocess

    from botarena.events import Notice

# The import string each worker process loads (a factory: no app is made on import).
WORKER_APP = "botarena.cli.workers:http_app"
METRICS_ENV = "PROMETHEUS_MULTIPROC_DIR"
_PR_SET_PDEATHSIG = 1
# How long the supervisor waits for each worker to serve before starting the services anyway.
_WORKER_START_SECONDS = 60.0

log = structlog.get_logger(__name__)


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
    from botarena.storage import private_data_dir

    folder = private_data_dir(settings) / "metrics"
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
    """Run ``workers`` HTTP processes on ``host:port`` and, once they serve, ``app``'s
    background services here, until SIGTERM or Ctrl-C; then stop the workers (each is sent
    SIGTERM and awaited), then the services."""
    import uvicorn

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

    def serving() -> None:
        # After the workers start: builds and matches would otherwise take the processor
        # from them while they import, and the port would answer late.
        start_background(app)
        _wake_on_notices(app)
        announce()

    supervisor = _supervisor(config, [config.bind_socket()], serving)
    try:
        supervisor.run()
    finally:
        supervisor.terminate_all()
        supervisor.join_all()
        stop_background(app)
        app.state.events.stop()
        app.state.engine.dispose()


def _supervisor(config: Config, sockets: list[socket], serving: Callable[[], None]) -> Multiprocess:
    """uvicorn's process supervisor (signals, restarts of a worker that died), calling
    ``serving`` once its first workers answer."""
    from uvicorn.supervisors import Multiprocess

    class Supervisor(Multiprocess):
        def init_processes(self) -> None:
            super().init_processes()
            for process in self.processes:
                if not process.wait_until_ready(_WORKER_START_SECONDS, self.should_exit):
                    log.warning("an HTTP worker was not ready in time", pid=process.pid)
            if not self.should_exit.is_set():
                serving()

    return Supervisor(config, sockets=sockets)


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
