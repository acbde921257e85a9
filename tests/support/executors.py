"""Executors as the tests run them: served over mutual TLS with a test run's own authority,
their agents placed where an executor accepts them (``artifacts/`` of its data folder)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from botarena.executor.artifacts import ArtifactPolicy
from botarena.executor.client import ExecutorClient
from botarena.executor.credentials import DISPATCHER, EXECUTOR, CertificateAuthority
from botarena.executor.grpc_service import HEALTH, ArtifactRunner, ExecutorServicer, serve
from botarena.executor.proto import executor_pb2 as pb
from botarena.executor.rpc import grpc
from botarena.matches.running import embedded_socket
from botarena.settings import Settings


def authority(data_dir: Path) -> CertificateAuthority:
    """The platform's authority in ``data_dir``'s ``pki/``, made on first use."""
    return CertificateAuthority.open_or_create(data_dir / "pki")


def dispatcher_client(address: str, data_dir: Path) -> ExecutorClient:
    """A client holding the dispatcher's certificate of ``data_dir``'s authority."""
    return ExecutorClient(address, authority(data_dir).issue(DISPATCHER))


def artifact_folder(data_dir: Path, name: str, files: dict[str, str]) -> Path:
    """A folder holding ``files`` where a local artifact lives: artifacts/NAME/code."""
    folder = data_dir / "artifacts" / name / "code"
    folder.mkdir(parents=True, exist_ok=True)
    for relative, text in files.items():
        (folder / relative).write_text(text)
    return folder


@contextmanager
def serving_both_ways(data_dir: Path) -> Iterator[tuple[str, Path]]:
    """One executor of ``data_dir`` served on a free loopback port, as a remote one is, and on
    a Unix socket where ``botarena serve`` puts its embedded one; yields (address, socket)."""
    settings = Settings(_env_file=None, data_dir=data_dir)  # type: ignore[call-arg]
    runner = ArtifactRunner(settings)
    service = ExecutorServicer(runner, ArtifactPolicy.from_settings(settings))
    identity = authority(data_dir).issue(EXECUTOR)
    socket = embedded_socket(data_dir)
    tcp_server, port = serve(service, "127.0.0.1:0", identity)
    unix_server, _ = serve(service, f"unix:{socket}", identity)
    try:
        yield f"127.0.0.1:{port}", socket
    finally:
        tcp_server.stop(grace=0).wait()
        unix_server.stop(grace=0).wait()
        service.close()
        runner.close()


def raw_health(channel: grpc.Channel) -> pb.HealthReply:
    """Health asked on a channel made by hand (with or without credentials)."""
    health = channel.unary_unary(
        HEALTH,
        request_serializer=pb.HealthRequest.SerializeToString,
        response_deserializer=pb.HealthReply.FromString,
    )
    reply: pb.HealthReply = health(pb.HealthRequest(), timeout=5)
    return reply
