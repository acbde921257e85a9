"""The executor's health: the standard ``grpc.health.v1`` service on its mutual-TLS port, and
``/readyz``, ``/healthz`` and ``/metrics`` on its plain HTTP port, in process and from a real
``botarena executor`` process."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

from botarena.executor.artifacts import ArtifactPolicy
from botarena.executor.credentials import DISPATCHER, EXECUTOR
from botarena.executor.grpc_service import ArtifactRunner, ExecutorServicer, serve
from botarena.executor.http_port import HttpPort
from botarena.executor.rpc import grpc, health_pb2, health_pb2_grpc
from botarena.executor.sandbox.isolation import probe_isolation
from botarena.settings import Settings

from support.docker import Engine
from support.executors import authority
from support.live import free_port
from support.services import require_sandbox

SERVING = health_pb2.HealthCheckResponse.SERVING
NOT_SERVING = health_pb2.HealthCheckResponse.NOT_SERVING


@dataclass
class Served:
    service: ExecutorServicer
    grpc_address: str
    http: str


@contextmanager
def serving(settings: Settings) -> Iterator[Served]:
    """An executor on a free loopback port, with its HTTP port on another."""
    runner = ArtifactRunner(settings)
    service = ExecutorServicer(runner, ArtifactPolicy.from_settings(settings), capacity=3)
    server, port = serve(service, "127.0.0.1:0", authority(settings.data_dir).issue(EXECUTOR))
    http = HttpPort("127.0.0.1:0", service.standard_health)
    try:
        yield Served(service, f"127.0.0.1:{port}", f"http://127.0.0.1:{http.port}")
    finally:
        http.close()
        server.stop(grace=0).wait()
        service.close()
        runner.close()


@pytest.fixture
def served(tmp_path: Path) -> Iterator[Served]:
    with serving(Settings(_env_file=None, data_dir=tmp_path)) as served:  # type: ignore[call-arg]
        yield served


@pytest.fixture
def without_bubblewrap(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    monkeypatch.setenv("PATH", "/nonexistent")
    probe_isolation.cache_clear()
    yield
    probe_isolation.cache_clear()


def check(address: str, data_dir: Path, service: str = "", *, certificate: bool = True) -> int:
    """The standard health check, over TLS with the dispatcher's certificate (or none)."""
    identity = authority(data_dir).issue(DISPATCHER)
    credentials = grpc.ssl_channel_credentials(
        root_certificates=identity.ca_pem,
        private_key=identity.key_pem if certificate else None,
        certificate_chain=identity.cert_pem if certificate else None,
    )
    options = [("grpc.ssl_target_name_override", EXECUTOR)]
    with grpc.secure_channel(address, credentials, options=options) as channel:
        stub = health_pb2_grpc.HealthStub(channel)
        reply = stub.Check(health_pb2.HealthCheckRequest(service=service), timeout=5)
        return int(reply.status)


def test_a_working_executor_is_serving_and_ready(served: Served, tmp_path: Path) -> None:
    require_sandbox()
    assert check(served.grpc_address, tmp_path) == SERVING
    assert check(served.grpc_address, tmp_path, "botarena.executor.v1.Executor") == SERVING
    with pytest.raises(grpc.RpcError) as unknown:
        check(served.grpc_address, tmp_path, "no.such.Service")
    assert unknown.value.code() == grpc.StatusCode.NOT_FOUND  # type: ignore[attr-defined]

    ready = httpx.get(f"{served.http}/readyz")
    assert ready.status_code == 200
    assert ready.json() == {
        "status": "ready",
        "failing": [],
        "checks": {
            "serving": {"ok": True, "detail": None},
            "sandbox": {"ok": True, "detail": None},
        },
    }
    assert httpx.get(f"{served.http}/healthz").status_code == 200
    assert httpx.get(f"{served.http}/nothing").status_code == 404
    metrics = httpx.get(f"{served.http}/metrics")
    assert metrics.status_code == 200
    assert "botarena_executor_slots_free" in metrics.text


def test_the_health_service_keeps_mutual_tls(served: Served, tmp_path: Path) -> None:
    """No client certificate: the handshake fails before any call, health included."""
    with pytest.raises(grpc.RpcError) as refused:
        check(served.grpc_address, tmp_path, certificate=False)
    assert refused.value.code() == grpc.StatusCode.UNAVAILABLE  # type: ignore[attr-defined]


@pytest.mark.usefixtures("without_bubblewrap")
def test_an_executor_without_its_sandbox_is_not_serving(served: Served, tmp_path: Path) -> None:
    answer = httpx.get(f"{served.http}/readyz")
    assert answer.status_code == 503
    body = answer.json()
    assert body["failing"] == ["sandbox"] and body["status"] == "unavailable"
    assert "bubblewrap is not installed" in body["checks"]["sandbox"]["detail"]
    assert body["checks"]["serving"]["ok"] is True
    assert check(served.grpc_address, tmp_path) == NOT_SERVING


def test_a_stopping_executor_is_not_serving(served: Served, tmp_path: Path) -> None:
    served.service.standard_health.stopping()
    assert check(served.grpc_address, tmp_path) == NOT_SERVING
    answer = httpx.get(f"{served.http}/readyz")
    assert answer.status_code == 503 and answer.json()["failing"][0] == "serving"


def test_the_executor_command_serves_health_and_metrics(tmp_path: Path) -> None:
    """A real ``botarena executor`` with its HTTP port: ready, its free slots in /metrics,
    SERVING over gRPC; the HTTP port is off unless asked for."""
    require_sandbox()
    authority(tmp_path)
    port = free_port()
    environment = {**os.environ, "BOTARENA_DATA_DIR": str(tmp_path)}
    command = [sys.executable, "-m", "botarena", "executor", "--listen", "127.0.0.1:0"]
    process = subprocess.Popen(
        [*command, "--capacity", "3", "--http-listen", f"127.0.0.1:{port}"],
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        env=environment,
        text=True,
    )
    try:
        assert process.stdout is not None
        grpc_port = int(process.stdout.readline().strip().rsplit(":", 1)[1])
        assert f"127.0.0.1:{port}" in process.stdout.readline()
        assert check(f"127.0.0.1:{grpc_port}", tmp_path) == SERVING
        assert httpx.get(f"http://127.0.0.1:{port}/readyz").status_code == 200
        metrics = httpx.get(f"http://127.0.0.1:{port}/metrics").text
        assert "botarena_executor_slots_free 3.0" in metrics.splitlines()
        process.send_signal(signal.SIGTERM)
        assert process.wait(15) == 0
    finally:
        process.kill()
        process.wait(10)
    with pytest.raises(httpx.ConnectError):
        httpx.get(f"http://127.0.0.1:{port}/readyz")


def test_health_watchers_hear_the_stop(served: Served, tmp_path: Path) -> None:
    identity = authority(tmp_path).issue(DISPATCHER)
    credentials = grpc.ssl_channel_credentials(
        root_certificates=identity.ca_pem,
        private_key=identity.key_pem,
        certificate_chain=identity.cert_pem,
    )
    options = [("grpc.ssl_target_name_override", EXECUTOR)]
    with grpc.secure_channel(served.grpc_address, credentials, options=options) as channel:
        watch = health_pb2_grpc.HealthStub(channel).Watch(
            health_pb2.HealthCheckRequest(service=""), timeout=10
        )
        first = next(watch).status
        served.service.standard_health.stopping()
        deadline = time.monotonic() + 5
        statuses = [first]
        while statuses[-1] != NOT_SERVING and time.monotonic() < deadline:
            statuses.append(next(watch).status)
        watch.cancel()
    assert statuses[-1] == NOT_SERVING


def test_where_images_are_played_the_container_engine_is_checked(
    tmp_path: Path, docker_daemon: Engine
) -> None:
    """The docker build backend: the engine is its agents' sandbox, so readiness asks it; an
    engine that does not answer makes the executor unavailable, with the reason."""
    require_sandbox()
    settings = Settings(  # type: ignore[call-arg]
        _env_file=None, data_dir=tmp_path, build_backend="docker", docker_host=docker_daemon.url
    )
    with serving(settings) as served:
        ready = httpx.get(f"{served.http}/readyz")
        assert ready.status_code == 200
        assert ready.json()["checks"]["containers"] == {"ok": True, "detail": None}
        assert check(served.grpc_address, tmp_path) == SERVING

    gone = tmp_path / "no-engine.sock"
    settings = settings.model_copy(update={"docker_host": f"unix://{gone}"})
    with serving(settings) as served:
        answer = httpx.get(f"{served.http}/readyz")
        assert answer.status_code == 503
        body = answer.json()
        assert body["failing"] == ["containers"]
        assert body["checks"]["containers"]["detail"].startswith("the container engine ")
        assert check(served.grpc_address, tmp_path) == NOT_SERVING


def test_folders_only_executors_do_not_ask_an_engine(served: Served) -> None:
    """The local build backend plays folders: no engine is needed, none is asked for."""
    require_sandbox()
    assert "containers" not in httpx.get(f"{served.http}/readyz").json()["checks"]
