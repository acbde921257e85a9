"""Matches inside ``botarena serve``: the dispatcher, and an embedded executor when no
executor is configured (reached over the same gRPC interface as a remote one, with the same
mutual TLS, on a Unix socket that only the server's user can open)."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path
from typing import TYPE_CHECKING

import structlog

from botarena.db.engine import SessionFactory
from botarena.events import EventBus
from botarena.executor.artifacts import ArtifactPolicy
from botarena.executor.credentials import (
    DISPATCHER,
    EXECUTOR,
    PROCESS_DAYS,
    CertificateAuthority,
)
from botarena.executor.grpc_service import ArtifactRunner, ExecutorServicer, runner_for, serve
from botarena.executor.rpc import grpc
from botarena.matches.dispatcher import MatchDispatcher
from botarena.matches.executors import ExecutorHealth
from botarena.matches.hooks import FinishedMatchHook
from botarena.settings import Settings

if TYPE_CHECKING:
    from botarena.executor.runners.kubernetes import KubernetesMatchRunner

log = structlog.get_logger(__name__)

# The longest path a Unix socket address holds (sun_path is 108 bytes, with its NUL).
_MAX_SOCKET_PATH = 107


class EmbeddedExecutor:
    """An executor of this process, its server and its socket; stopped together."""

    def __init__(
        self,
        server: grpc.Server,
        service: ExecutorServicer,
        runner: ArtifactRunner | KubernetesMatchRunner,
        socket: Path,
    ) -> None:
        self.server = server
        self.service = service
        self.runner = runner
        self.socket = socket

    def stop(self) -> None:
        self.server.stop(grace=5).wait()
        self.service.close()
        self.runner.close()
        self.socket.unlink(missing_ok=True)


class RunningMatches:
    """The dispatcher and, when embedded, the executor; stopped together."""

    def __init__(self, dispatcher: MatchDispatcher, embedded: EmbeddedExecutor | None) -> None:
        self.dispatcher = dispatcher
        self.embedded = embedded

    def wake(self) -> None:
        self.dispatcher.wake()

    def executors(self) -> list[ExecutorHealth]:
        """Each executor as the dispatcher last heard it (no call is made)."""
        return self.dispatcher.board.snapshot()

    def stop(self) -> None:
        self.dispatcher.stop()
        if self.embedded is not None:
            self.embedded.stop()


def start_matches(
    factory: SessionFactory,
    settings: Settings,
    finished: FinishedMatchHook,
    *,
    bus: EventBus | None = None,
) -> RunningMatches:
    """Start dispatching to ``BOTARENA_EXECUTORS``, or to an executor of this process;
    ``finished`` is told of every match recorded finished (the ratings' hook); ``bus`` tells
    of matches cancelled (by any process), which are then stopped on their executor."""
    authority = CertificateAuthority.open_or_create(settings.credentials_dir)
    embedded = None
    executors = list(settings.executors)
    if not executors:
        runner = runner_for(settings)  # BOTARENA_MATCH_RUNNER: kubernetes plays Jobs
        policy = ArtifactPolicy.from_settings(settings)
        service = ExecutorServicer(runner, policy, capacity=settings.executor_capacity)
        socket = embedded_socket(settings.data_dir)
        server, _ = serve(service, f"unix:{socket}", authority.issue(EXECUTOR, days=PROCESS_DAYS))
        embedded = EmbeddedExecutor(server, service, runner, socket)
        executors = [f"unix:{socket}"]
        log.info("embedded executor started", address=executors[0])
    identity = authority.issue(DISPATCHER, days=PROCESS_DAYS)
    dispatcher = MatchDispatcher(
        factory,
        settings,
        executors,
        identity,
        finished,
        embedded=executors[0] if embedded is not None else None,
        bus=bus,
    )
    dispatcher.start()
    return RunningMatches(dispatcher, embedded)


def embedded_socket(data_dir: Path) -> Path:
    """Where this process's embedded executor listens: ``run/`` in the data folder (mode
    0700), or a private temporary folder when that path is too long for a socket."""
    folder = data_dir.resolve() / "run"
    socket = folder / f"executor-{os.getpid()}.sock"
    if len(str(socket)) > _MAX_SOCKET_PATH:
        folder = Path(tempfile.mkdtemp(prefix="botarena-"))  # made 0700
        socket = folder / "executor.sock"
    folder.mkdir(mode=0o700, parents=True, exist_ok=True)
    os.chmod(folder, 0o700)
    return socket
