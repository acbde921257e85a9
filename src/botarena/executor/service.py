"""The executor service: plays the matches it is handed over gRPC and streams their events.

Each match runs on a thread of its own while the call's thread sends a heartbeat every
``heartbeat_seconds``, so the caller can keep its lease on the match alive and notice a dead
executor by the silence. Agents built into images run on the docker runner, prepared folders
on the local runner; neither runner is started before a match needs it.
"""

from __future__ import annotations

import json
import socket
import threading
import time
from collections.abc import Iterator
from concurrent.futures import Future, ThreadPoolExecutor

import structlog

from botarena.executor import wire
from botarena.executor.agent_process import AgentProcess
from botarena.executor.match import platform_error, run_match
from botarena.executor.outcomes import MatchResult
from botarena.executor.prepare import PreparedAgent
from botarena.executor.proto import executor_pb2 as pb
from botarena.executor.rpc import grpc
from botarena.executor.runners.base import Runner
from botarena.executor.runners.local import LocalRunner
from botarena.executor.sandbox import Limits
from botarena.games.base import GameConfigError
from botarena.games.registry import UnknownGameError, get_game
from botarena.settings import Settings

log = structlog.get_logger(__name__)

SERVICE = "botarena.executor.v1.Executor"
RUN_MATCH = f"/{SERVICE}/RunMatch"
HEALTH = f"/{SERVICE}/Health"


class ArtifactRunner:
    """Starts each agent with the runner its artifact needs: images in containers, folders
    in the local sandbox. Each runner is made on first use."""

    def __init__(self, settings: Settings, limits: Limits | None = None) -> None:
        self.settings = settings
        self.limits = limits or Limits()
        self._lock = threading.Lock()
        self._local: LocalRunner | None = None
        self._docker: Runner | None = None
        self._docker_client: object | None = None

    @property
    def isolation(self) -> str:
        return "images: containers; folders: the bubblewrap sandbox"

    @property
    def sandboxed(self) -> bool:
        return True

    def start(self, agent: PreparedAgent, *, name: str) -> AgentProcess:
        return self._runner(agent).start(agent, name=name)

    def _runner(self, agent: PreparedAgent) -> Runner:
        with self._lock:
            if agent.image is not None:
                if self._docker is None:
                    # Imported here: an executor that runs no images never loads the SDK.
                    from botarena.executor.runners.docker import DockerRunner, connect

                    client = connect(self.settings.docker_host)
                    self._docker_client = client
                    self._docker = DockerRunner(
                        client, self.limits, runtime=self.settings.docker_runtime
                    )
                return self._docker
            if self._local is None:
                self._local = LocalRunner(self.limits)
            return self._local

    def close(self) -> None:
        with self._lock:
            if self._local is not None:
                self._local.close()
            close = getattr(self._docker_client, "close", None)
            if callable(close):
                close()


class ExecutorService:
    """The two calls of the service, on a runner that starts each agent where it belongs."""

    def __init__(
        self,
        runner: Runner,
        *,
        name: str | None = None,
        capacity: int = 2,
        heartbeat_seconds: float = 1.0,
    ) -> None:
        self.runner = runner
        self.name = name or socket.gethostname()
        self.capacity = capacity
        self.heartbeat_seconds = heartbeat_seconds
        self._matches = ThreadPoolExecutor(capacity, thread_name_prefix="match")
        self._running = 0
        self._lock = threading.Lock()

    def run_match(
        self, spec: pb.MatchSpec, context: grpc.ServicerContext
    ) -> Iterator[pb.MatchEvent]:
        try:
            game = get_game(spec.game)
            configuration = game.configure(json.loads(spec.configuration_json or "{}"))
            agents = [wire.prepared_agent(agent) for agent in spec.agents]
        except (UnknownGameError, GameConfigError, ValueError) as exc:
            context.abort(grpc.StatusCode.INVALID_ARGUMENT, f"bad match spec: {exc}")
        if len(agents) != 2:
            context.abort(grpc.StatusCode.INVALID_ARGUMENT, "a match takes two agents")
        log.info("match started", match_id=spec.match_id, game=spec.game, executor=self.name)
        yield pb.MatchEvent(started=pb.Started(executor=self.name, isolation=self.runner.isolation))
        started = time.monotonic()
        with self._lock:
            self._running += 1
        try:
            future: Future[MatchResult] = self._matches.submit(
                run_match, game, configuration, agents, self.runner, seed=spec.seed
            )
            while True:
                try:
                    result = future.result(timeout=self.heartbeat_seconds)
                    break
                except TimeoutError:
                    if not context.is_active():
                        # The caller is gone and will not record it; the match still ends on
                        # its own clock (its agents' processes are not pulled from under the
                        # referee), and its thread is free again then.
                        log.warning("caller gone; result dropped", match_id=spec.match_id)
                        return
                    elapsed = time.monotonic() - started
                    yield pb.MatchEvent(heartbeat=pb.Heartbeat(elapsed_seconds=elapsed))
                except Exception as exc:  # a bug of ours: the match is the platform's error
                    log.exception("match crashed", match_id=spec.match_id)
                    result = platform_error(len(agents), f"the executor failed: {exc}", started)
                    break
        finally:
            with self._lock:
                self._running -= 1
        log.info("match finished", match_id=spec.match_id, status=result.status.value)
        yield pb.MatchEvent(finished=wire.finished(result))

    def health(self, request: pb.HealthRequest, context: grpc.ServicerContext) -> pb.HealthReply:
        with self._lock:
            running = self._running
        return pb.HealthReply(
            serving=True,
            isolation=self.runner.isolation,
            running=running,
            capacity=self.capacity,
        )

    def handler(self) -> grpc.GenericRpcHandler:
        """The service's methods for a gRPC server."""
        return grpc.method_handlers_generic_handler(
            SERVICE,
            {
                "RunMatch": grpc.unary_stream_rpc_method_handler(
                    self.run_match,
                    request_deserializer=pb.MatchSpec.FromString,
                    response_serializer=pb.MatchEvent.SerializeToString,
                ),
                "Health": grpc.unary_unary_rpc_method_handler(
                    self.health,
                    request_deserializer=pb.HealthRequest.FromString,
                    response_serializer=pb.HealthReply.SerializeToString,
                ),
            },
        )

    def close(self) -> None:
        """Refuse new matches and wait for those running (each ends in bounded time)."""
        self._matches.shutdown(wait=True, cancel_futures=True)


def serve(service: ExecutorService, listen: str) -> tuple[grpc.Server, int]:
    """A started gRPC server for ``service`` on ``listen`` (``host:port``; port 0 picks one);
    returns the server and the port it listens on."""
    server = grpc.server(ThreadPoolExecutor(max_workers=service.capacity + 4))
    server.add_generic_rpc_handlers((service.handler(),))
    port = server.add_insecure_port(listen)
    if port == 0:
        raise OSError(f"cannot listen on {listen}")
    server.start()
    return server, port
