"""Matches inside ``botarena serve``: the dispatcher, and an embedded executor when no
executor is configured (reached over the same gRPC interface as a remote one)."""

from __future__ import annotations

import structlog

from botarena.db.engine import SessionFactory
from botarena.executor.rpc import grpc
from botarena.executor.service import ArtifactRunner, ExecutorService, serve
from botarena.matches.dispatcher import MatchDispatcher
from botarena.settings import Settings

log = structlog.get_logger(__name__)


class RunningMatches:
    """The dispatcher and, when embedded, the executor; stopped together."""

    def __init__(
        self,
        dispatcher: MatchDispatcher,
        embedded: tuple[grpc.Server, ExecutorService, ArtifactRunner] | None,
    ) -> None:
        self.dispatcher = dispatcher
        self.embedded = embedded

    def wake(self) -> None:
        self.dispatcher.wake()

    def stop(self) -> None:
        self.dispatcher.stop()
        if self.embedded is not None:
            server, service, runner = self.embedded
            server.stop(grace=5).wait()
            service.close()
            runner.close()


def start_matches(factory: SessionFactory, settings: Settings) -> RunningMatches:
    """Start dispatching to ``BOTARENA_EXECUTORS``, or to an executor of this process."""
    embedded = None
    executors = list(settings.executors)
    if not executors:
        runner = ArtifactRunner(settings)
        service = ExecutorService(runner, capacity=settings.executor_capacity)
        server, port = serve(service, "127.0.0.1:0")
        embedded = (server, service, runner)
        executors = [f"127.0.0.1:{port}"]
        log.info("embedded executor started", address=executors[0])
    dispatcher = MatchDispatcher(factory, settings, executors)
    dispatcher.start()
    return RunningMatches(dispatcher, embedded)
