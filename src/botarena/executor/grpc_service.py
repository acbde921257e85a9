"""The executor service: plays the matches it is handed over gRPC and streams their events.

It trusts no caller. It serves only over mutual TLS, and answers only a client whose
certificate the platform's authority issued to the dispatcher (see :mod:`.credentials`);
it runs only what it can verify as an artifact (see :mod:`.artifacts`). Every refusal is
logged with the caller's address.

Each match runs on a thread of its own while the call's thread sends a heartbeat every
``heartbeat_seconds``, so the caller can keep its lease on the match alive and notice a dead
executor by the silence. When the call ends before the match (the dispatcher cancels it for a
cancelled match, or goes away), the match is stopped and its agents' processes killed at once.
The dispatcher's ``x-request-id`` metadata (the request that made the match) is bound into
every log line of the match. Agents built into images run on the docker runner, prepared folders
on the local runner; neither runner is started before a match needs it.
"""

from __future__ import annotations

import json
import os
import socket
import threading
import time
from collections.abc import Iterable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path
from typing import TYPE_CHECKING, Any

import structlog

from botarena.executor import wire
from botarena.executor.agent_process import AgentProcess
from botarena.executor.artifact_folders import Hold
from botarena.executor.artifacts import ArtifactPolicy, ArtifactRefusedError
from botarena.executor.credentials import DISPATCHER, Identity
from botarena.executor.health import ContainerEngine, ExecutorHealth
from botarena.executor.match import platform_error, run_match
from botarena.executor.outcomes import MatchResult
from botarena.executor.prepare import PreparedAgent
from botarena.executor.proto import executor_pb2 as pb
from botarena.executor.rpc import grpc, health_pb2_grpc
from botarena.executor.runners.base import MatchRunner, Runner
from botarena.executor.runners.local import LocalRunner
from botarena.executor.sandbox import Limits
from botarena.executor.stop import StopSignal
from botarena.games.base import GameConfigError
from botarena.games.registry import UnknownGameError, get_game
from botarena.logging import REQUEST_ID_METADATA, valid_request_id
from botarena.metrics import definitions as metrics
from botarena.settings import Settings

if TYPE_CHECKING:
    from botarena.executor.runners.kubernetes import KubernetesMatchRunner

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

    def engine_problem(self) -> str | None:
        """Why the container engine cannot play images now, or None when it answers; asked
        only where images are played (see :attr:`plays_images`)."""
        from botarena.executor.runners.docker import DockerUnavailableError, connect, engine_problem

        with self._lock:
            if self._docker_client is None:
                try:
                    self._docker_client = connect(self.settings.docker_host, timeout=5)
                except DockerUnavailableError as exc:
                    return str(exc)
            client = self._docker_client
        return engine_problem(client)  # type: ignore[arg-type]

    @property
    def plays_images(self) -> bool:
        """The deployment builds images (the docker or kubernetes backend; until the Kubernetes
        match runner, executors play both on the engine), or this executor has played one."""
        return self.settings.build_backend in ("docker", "kubernetes") or self._docker is not None

    def _runner(self, agent: PreparedAgent) -> Runner:
        with self._lock:
            if agent.image is not None:
                if self._docker is None:
                    # Imported here: an executor that runs no images never loads the SDK.
                    from botarena.executor.runners.docker import DockerRunner, connect

                    client = connect(self.settings.docker_host)
                    self._close_client()
                    self._docker_client = client
                    self._docker = DockerRunner(
                        client,
                        self.limits,
                        runtime=self.settings.docker_runtime,
                        warm_per_image=self.settings.docker_warm_containers,
                        warm_total=self.settings.docker_warm_containers_max,
                    )
                return self._docker
            if self._local is None:
                self._local = LocalRunner(self.limits)
            return self._local

    def close(self) -> None:
        with self._lock:
            if self._local is not None:
                self._local.close()
            close_runner = getattr(self._docker, "close", None)
            if callable(close_runner):
                close_runner()
            self._close_client()

    def _close_client(self) -> None:
        close = getattr(self._docker_client, "close", None)
        if callable(close):
            close()
        self._docker_client = None


def runner_for(settings: Settings) -> ArtifactRunner | KubernetesMatchRunner:
    """The runner ``BOTARENA_MATCH_RUNNER`` asks for: each agent started where its artifact
    belongs (``auto``), or each match a Kubernetes Job (``kubernetes``; raises RuntimeError
    when the cluster's configuration cannot be read)."""
    if settings.match_runner != "kubernetes":
        return ArtifactRunner(settings)
    # Imported here: an executor that plays no match on Kubernetes never loads the client.
    from botarena.executor.runners.kubernetes import KubernetesMatchRunner

    try:
        return KubernetesMatchRunner.from_settings(settings)
    except Exception as exc:  # the kubeconfig or the service account cannot be read
        raise RuntimeError(f"cannot reach the Kubernetes cluster: {exc}") from exc


class ExecutorServicer:
    """The two calls of the service, on a runner that starts each agent where it belongs."""

    def __init__(
        self,
        runner: Runner | MatchRunner,
        policy: ArtifactPolicy,
        *,
        name: str | None = None,
        capacity: int = 2,
        heartbeat_seconds: float = 1.0,
    ) -> None:
        self.runner = runner
        self.policy = policy
        self.name = name or socket.gethostname()
        self.capacity = capacity
        self.heartbeat_seconds = heartbeat_seconds
        self._matches = ThreadPoolExecutor(capacity, thread_name_prefix="match")
        self._running = 0
        self._lock = threading.Lock()
        self._closed = False
        if isinstance(runner, MatchRunner):  # its matches play elsewhere: no sandbox here
            self.standard_health = ExecutorHealth(_engine_of(runner), sandbox=False)
        else:
            self.standard_health = ExecutorHealth(
                runner if isinstance(runner, ArtifactRunner) else None
            )
        metrics.executor_slots_changed(+capacity)

    def run_match(
        self, spec: pb.MatchSpec, context: grpc.ServicerContext
    ) -> Iterator[pb.MatchEvent]:
        _authorize(context)
        # The request that made the match, when the dispatcher sends it: on every line here.
        fields = _match_fields(spec.match_id, context)
        said = log.bind(**fields)
        try:
            game = get_game(spec.game)
            configuration = game.configure(json.loads(spec.configuration_json or "{}"))
            agents = [self.policy.agent(agent) for agent in spec.agents]
            # A ValueError, answered below: a match has as many agents as its game allows.
            game.check_player_count(len(agents))
            holds = self.policy.hold(agents)
        except ArtifactRefusedError as exc:
            said.warning("match refused", reason=str(exc), peer=context.peer())
            context.abort(grpc.StatusCode.INVALID_ARGUMENT, f"refused: {exc}")
        except (UnknownGameError, GameConfigError, ValueError) as exc:
            context.abort(grpc.StatusCode.INVALID_ARGUMENT, f"bad match spec: {exc}")
        said.info("match started", game=spec.game, executor=self.name)
        try:
            yield pb.MatchEvent(
                started=pb.Started(executor=self.name, isolation=self.runner.isolation)
            )
        except BaseException:  # the caller went away before the match was handed to a thread
            _release(holds)
            raise
        started = time.monotonic()
        stop = StopSignal()
        # However the call ends before the match does (the dispatcher cancelled it because
        # the match was cancelled, or it went away and will record nothing), the match stops:
        # its agents' processes are killed now, not at the end of the match's own clock.
        if not context.add_callback(stop.set):
            stop.set()
        with self._lock:
            self._running += 1
        metrics.executor_slots_changed(-1)
        try:
            try:
                future: Future[MatchResult] = self._matches.submit(
                    _played,
                    holds,
                    stop,
                    fields,
                    game,
                    configuration,
                    agents,
                    self.runner,
                    seed=spec.seed,
                )
            except RuntimeError:  # shutting down
                _release(holds)
                stop.close()
                raise
            while True:
                try:
                    result = future.result(timeout=self.heartbeat_seconds)
                    break
                except TimeoutError:
                    if not context.is_active() or stop.is_set():
                        stop.set()
                        said.info("match stopped: its caller cancelled it or went away")
                        return
                    elapsed = time.monotonic() - started
                    yield pb.MatchEvent(heartbeat=pb.Heartbeat(elapsed_seconds=elapsed))
                except Exception as exc:  # a bug of ours: the match is the platform's error
                    said.exception("match crashed")
                    result = platform_error(len(agents), f"the executor failed: {exc}", started)
                    break
        finally:
            with self._lock:
                self._running -= 1
            metrics.executor_slots_changed(+1)
        if stop.is_set():
            said.info("match stopped: its caller cancelled it or went away")
            return
        said.info("match finished", status=result.status.value)
        yield pb.MatchEvent(finished=wire.finished(result))

    def health(self, request: pb.HealthRequest, context: grpc.ServicerContext) -> pb.HealthReply:
        _authorize(context)
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
        self.standard_health.stopping()
        with self._lock:
            closed, self._closed = self._closed, True
        if not closed:
            metrics.executor_slots_changed(-self.capacity)
        self._matches.shutdown(wait=True, cancel_futures=True)


def _engine_of(runner: MatchRunner) -> ContainerEngine | None:
    """Where a whole-match runner's containers run, when it can say whether it answers."""
    return runner if isinstance(runner, ContainerEngine) else None


def _played(
    holds: list[Hold], stop: StopSignal, fields: dict[str, str], *args: Any, **kwargs: Any
) -> MatchResult:
    """Play a match, its ``fields`` on every log line of it, then let go of its artifacts
    and its stop signal (a match may outlive its caller, never its stop signal)."""
    try:
        with structlog.contextvars.bound_contextvars(**fields):
            return run_match(*args, stop=stop, match_id=fields["match_id"], **kwargs)
    finally:
        _release(holds)
        stop.close()


def _match_fields(match_id: str, context: grpc.ServicerContext) -> dict[str, str]:
    """The match's id and, when the caller sent a well-formed one, its request id."""
    fields = {"match_id": match_id}
    for key, value in context.invocation_metadata() or ():
        if key == REQUEST_ID_METADATA and isinstance(value, str):
            request_id = valid_request_id(value)
            if request_id is not None:
                fields["request_id"] = request_id
    return fields


def _release(holds: list[Hold]) -> None:
    for hold in holds:
        try:
            hold.release()
        except OSError:
            log.exception("releasing an artifact failed", artifact=str(hold.code_dir))


def _authorize(context: grpc.ServicerContext) -> None:
    """Only the platform's dispatcher may call: its certificate's common name says so (the
    TLS handshake has already checked that the platform's authority signed it)."""
    given: bytes | Iterable[bytes] = context.auth_context().get("x509_common_name", [])
    names = [given] if isinstance(given, bytes) else list(given)
    if names != [DISPATCHER.encode()]:
        who = b",".join(names).decode(errors="replace") or "no certificate"
        log.warning("executor call refused", peer=context.peer(), identity=who)
        context.abort(
            grpc.StatusCode.PERMISSION_DENIED, "only the platform's dispatcher may call an executor"
        )


def serve(service: ExecutorServicer, listen: str, identity: Identity) -> tuple[grpc.Server, int]:
    """A started gRPC server for ``service`` on ``listen``, over mutual TLS with ``identity``:
    ``host:port`` (port 0 picks one) or ``unix:/path`` (the socket is made mode 0600; keep it
    in a folder only the server's user may enter). Returns the server and its port (0 for
    a socket)."""
    credentials = grpc.ssl_server_credentials(
        [(identity.key_pem, identity.cert_pem)],
        root_certificates=identity.ca_pem,
        require_client_auth=True,
    )
    server = grpc.server(ThreadPoolExecutor(max_workers=service.capacity + 4))
    server.add_generic_rpc_handlers((service.handler(),))
    # The standard health service, behind the same mutual TLS as the executor's calls.
    health_pb2_grpc.add_HealthServicer_to_server(service.standard_health.service, server)
    service.standard_health.checks()
    socket_path = listen.removeprefix("unix:") if listen.startswith("unix:") else None
    if socket_path is not None:
        Path(socket_path).unlink(missing_ok=True)
    port = server.add_secure_port(listen, credentials)
    if port == 0 and socket_path is None:
        raise OSError(f"cannot listen on {listen}")
    server.start()
    if socket_path is not None:
        os.chmod(socket_path, 0o600)
    return server, port
