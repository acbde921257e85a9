"""An executor trusts no one: callers without the dispatcher's certificate of the platform's
authority are refused, and a match naming anything but a verifiable artifact is refused and
logged. Each attack is tried for real, through real gRPC."""

from __future__ import annotations

import datetime as dt
import os
import stat
from collections.abc import Iterator
from pathlib import Path

import pytest
import structlog
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from botarena.executor import wire
from botarena.executor.artifacts import ArtifactPolicy, ArtifactRefusedError
from botarena.executor.client import ExecutorClient, ExecutorUnavailableError, MatchRefusedError
from botarena.executor.credentials import (
    DISPATCHER,
    EXECUTOR,
    CertificateAuthority,
    CredentialsError,
    Identity,
    executor_identity,
    write_bundle,
)
from botarena.executor.grpc_service import ArtifactRunner, ExecutorServicer, serve
from botarena.executor.prepare import PreparedAgent
from botarena.executor.proto import executor_pb2 as pb
from botarena.executor.rpc import grpc
from botarena.matches.running import embedded_socket
from botarena.settings import Settings

from support.executors import (
    artifact_folder,
    authority,
    dispatcher_client,
    raw_health,
    serving_both_ways,
)
from support.services import require_sandbox

RANDOM = (
    "import random\n"
    "def agent(obs, conf):\n"
    "    return random.choice([c for c in range(conf.columns) if obs.board[c] == 0])\n"
)
DIGEST = "sha256:" + "ab" * 32


@pytest.fixture
def data_dir(tmp_path: Path) -> Path:
    folder = tmp_path / "data"
    folder.mkdir()
    return folder


@pytest.fixture
def address(data_dir: Path) -> Iterator[str]:
    """An executor on a free loopback port, with the registry ``registry.test:5000``."""
    settings = Settings(_env_file=None, data_dir=data_dir, registry="registry.test:5000")  # type: ignore[call-arg]
    runner = ArtifactRunner(settings)
    service = ExecutorServicer(
        runner, ArtifactPolicy.from_settings(settings), heartbeat_seconds=0.1
    )
    server, port = serve(service, "127.0.0.1:0", authority(data_dir).issue(EXECUTOR))
    yield f"127.0.0.1:{port}"
    server.stop(grace=0).wait()
    service.close()
    runner.close()


def test_the_dispatcher_of_the_platform_is_answered(address: str, data_dir: Path) -> None:
    with dispatcher_client(address, data_dir) as client:
        assert client.health().serving


def test_a_call_without_credentials_is_refused(address: str) -> None:
    with grpc.insecure_channel(address) as channel, pytest.raises(grpc.RpcError) as refused:
        raw_health(channel)
    assert refused.value.code() == grpc.StatusCode.UNAVAILABLE  # type: ignore[attr-defined]


def test_a_certificate_of_another_authority_is_refused(address: str, tmp_path: Path) -> None:
    stranger = CertificateAuthority.open_or_create(tmp_path / "other-pki")
    with (
        ExecutorClient(address, stranger.issue(DISPATCHER)) as client,
        pytest.raises(ExecutorUnavailableError, match="unavailable"),
    ):
        client.health(timeout=5)


def test_a_client_without_a_certificate_is_refused(address: str, data_dir: Path) -> None:
    """TLS that checks the executor but shows no certificate of its own."""
    credentials = grpc.ssl_channel_credentials(root_certificates=authority(data_dir).pem)
    options = [("grpc.ssl_target_name_override", EXECUTOR)]
    with (
        grpc.secure_channel(address, credentials, options=options) as channel,
        pytest.raises(grpc.RpcError) as refused,
    ):
        raw_health(channel)
    assert refused.value.code() == grpc.StatusCode.UNAVAILABLE  # type: ignore[attr-defined]


def test_an_executor_certificate_cannot_call_another_executor(address: str, data_dir: Path) -> None:
    """Signed by the right authority, but for serving: a stolen executor bundle does not let
    anyone hand out matches (the handshake refuses a server certificate as a client's)."""
    with (
        ExecutorClient(address, authority(data_dir).issue(EXECUTOR)) as client,
        pytest.raises(ExecutorUnavailableError, match="unavailable"),
    ):
        client.health(timeout=5)


def test_only_the_dispatchers_name_is_answered(address: str, data_dir: Path) -> None:
    """A client certificate of the right authority under another name is refused by name."""
    stranger = _client_certificate(data_dir / "pki", "botarena-ladder")
    with ExecutorClient(address, stranger) as client:
        with pytest.raises(ExecutorUnavailableError, match="only the platform's dispatcher"):
            client.health(timeout=5)
        agents = [pb.AgentSpec(name="a", image=f"registry.test:5000/a@{DIGEST}")] * 2
        with pytest.raises(MatchRefusedError, match="only the platform's dispatcher"):
            list(client.run_match(pb.MatchSpec(game="connectx", agents=agents)))


def _client_certificate(pki: Path, common_name: str) -> Identity:
    """A client certificate for any name, signed with the authority's own key."""
    ca_key = serialization.load_pem_private_key((pki / "ca.key").read_bytes(), password=None)
    assert isinstance(ca_key, ec.EllipticCurvePrivateKey)
    ca = x509.load_pem_x509_certificate((pki / "ca.pem").read_bytes())
    key = ec.generate_private_key(ec.SECP256R1())
    now = dt.datetime.now(dt.UTC)
    certificate = (
        x509.CertificateBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name)]))
        .issuer_name(ca.subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(days=1))
        .not_valid_after(now + dt.timedelta(days=1))
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.CLIENT_AUTH]), critical=False)
        .sign(ca_key, hashes.SHA256())
    )
    key_pem = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    return Identity(
        ca.public_bytes(serialization.Encoding.PEM),
        certificate.public_bytes(serialization.Encoding.PEM),
        key_pem,
    )


def _refused(
    address: str, data_dir: Path, agent: pb.AgentSpec
) -> tuple[str, list[dict[str, object]]]:
    """The refusal's message and the log lines of a match naming ``agent`` twice."""
    good = artifact_folder(data_dir, "sub-good", {"main.py": RANDOM})
    spec = pb.MatchSpec(
        match_id="mat-attack",
        game="connectx",
        agents=[agent, pb.AgentSpec(name="good", code_dir=str(good))],
    )
    with (
        structlog.testing.capture_logs() as logs,
        dispatcher_client(address, data_dir) as client,
        pytest.raises(MatchRefusedError) as refused,
    ):
        list(client.run_match(spec))
    return str(refused.value), logs


@pytest.mark.parametrize(
    ("where", "message"),
    [
        ("/etc", "outside this executor's artifact root"),
        ("{data}", "outside this executor's artifact root"),
        ("{data}/artifacts", "outside this executor's artifact root"),
        ("{data}/artifacts/sub-good/code/../../..", "not a plain absolute path"),
        ("{data}/artifacts/./sub-good/code", "not a plain absolute path"),
        ("artifacts/sub-good/code", "not a plain absolute path"),
        ("{data}/artifacts/sub-link/code", "passes through a symbolic link"),
        ("{data}/artifacts/sub-linked-parent/code", "passes through a symbolic link"),
    ],
)
def test_a_folder_that_is_not_an_artifact_is_refused(
    address: str, data_dir: Path, where: str, message: str
) -> None:
    (data_dir / "artifacts" / "sub-link").mkdir(parents=True)
    (data_dir / "artifacts" / "sub-link" / "code").symlink_to("/etc")
    (data_dir / "artifacts" / "sub-linked-parent").symlink_to(data_dir / "artifacts" / "sub-good")
    agent = pb.AgentSpec(name="attacker", code_dir=where.format(data=data_dir))
    refusal, logs = _refused(address, data_dir, agent)
    assert message in refusal
    assert any(
        line["event"] == "match refused" and message in str(line["reason"]) for line in logs
    ), logs


def test_a_command_named_by_the_caller_is_refused(address: str, data_dir: Path) -> None:
    """The attack of the report: a real artifact folder, with a shell as its command."""
    folder = artifact_folder(data_dir, "sub-shell", {"main.py": RANDOM})
    agent = pb.AgentSpec(
        name="attacker", code_dir=str(folder), command=["/bin/sh", "-c", f"ls {data_dir}"]
    )
    refusal, _ = _refused(address, data_dir, agent)
    assert "a caller may not name the command" in refusal


def test_an_environment_outside_the_cache_is_refused(address: str, data_dir: Path) -> None:
    folder = artifact_folder(data_dir, "sub-env", {"main.py": RANDOM})
    agent = pb.AgentSpec(name="attacker", code_dir=str(folder), env_dir="/usr")
    assert "outside this executor's artifact root" in _refused(address, data_dir, agent)[0]
    unfinished = data_dir / "cache" / "envs" / "half-built"
    unfinished.mkdir(parents=True)
    agent = pb.AgentSpec(name="attacker", code_dir=str(folder), env_dir=str(unfinished))
    assert "is not a built environment" in _refused(address, data_dir, agent)[0]


@pytest.mark.parametrize(
    ("image", "digest", "message"),
    [
        ("alpine:latest", DIGEST, "not from a configured registry"),
        ("registry.test:5000.evil.example/a:1", DIGEST, "not from a configured registry"),
        ("registry.test:5000/agent-a:sub-v1", "", "comes without its digest"),
        ("registry.test:5000/agent-a:sub-v1", "sha256:nothex", "comes without its digest"),
        (f"registry.test:5000/agent-a@{DIGEST}", DIGEST, "not from a configured registry"),
    ],
)
def test_an_image_that_is_not_an_artifact_is_refused(
    address: str, data_dir: Path, image: str, digest: str, message: str
) -> None:
    agent = pb.AgentSpec(name="attacker", image=image, image_digest=digest)
    assert message in _refused(address, data_dir, agent)[0]


def test_a_registry_image_runs_by_its_digest() -> None:
    policy = ArtifactPolicy(Path("/srv/botarena"), registries=("registry.test:5000",))
    spec = wire.agent_spec(
        ArtifactPolicy(Path("/")).agent(pb.AgentSpec(name="x", image="botarena/agent-x:1")),
        image_digest=DIGEST,
    )
    spec.image = "registry.test:5000/agent-x:sub-1-v1"
    assert policy.agent(spec).image == f"registry.test:5000/agent-x@{DIGEST}"


def test_without_a_registry_only_the_platforms_own_images_run() -> None:
    policy = ArtifactPolicy(Path("/srv/botarena"))
    assert policy.agent(pb.AgentSpec(name="x", image="botarena/agent-a:s-v1")).image
    with pytest.raises(ValueError, match="not one of the platform's own"):
        policy.agent(pb.AgentSpec(name="x", image="docker.io/library/python:3.11"))


def test_the_command_comes_from_the_artifacts_own_manifest(data_dir: Path) -> None:
    folder = artifact_folder(
        data_dir, "sub-toml", {"botarena.toml": '[agent]\ncommand = ["./run"]\n'}
    )
    policy = ArtifactPolicy(data_dir.resolve())
    agent = policy.agent(pb.AgentSpec(name="x", code_dir=str(folder.resolve())))
    assert agent.command == ("./run",)


def test_the_embedded_executors_socket_is_private(tmp_path: Path) -> None:
    socket = embedded_socket(tmp_path)
    assert stat.S_IMODE(socket.parent.stat().st_mode) == 0o700
    settings = Settings(_env_file=None, data_dir=tmp_path)  # type: ignore[call-arg]
    runner = ArtifactRunner(settings)
    service = ExecutorServicer(runner, ArtifactPolicy.from_settings(settings))
    server, _ = serve(service, f"unix:{socket}", authority(tmp_path).issue(EXECUTOR))
    try:
        assert stat.S_ISSOCK(socket.stat().st_mode)
        assert stat.S_IMODE(socket.stat().st_mode) == 0o600
        with dispatcher_client(f"unix:{socket}", tmp_path) as client:
            assert client.health().serving
    finally:
        server.stop(grace=0).wait()
        service.close()
        runner.close()


def test_a_long_data_folder_puts_the_socket_in_a_private_temporary_folder(tmp_path: Path) -> None:
    deep = tmp_path.joinpath(*["a-rather-long-folder-name"] * 5)
    socket = embedded_socket(deep)
    assert len(str(socket)) <= 107
    assert stat.S_IMODE(socket.parent.stat().st_mode) == 0o700
    socket.parent.rmdir()


def test_keys_are_private_and_bundles_are_checked(tmp_path: Path) -> None:
    ca = CertificateAuthority.open_or_create(tmp_path / "pki")
    assert stat.S_IMODE((tmp_path / "pki").stat().st_mode) == 0o700
    assert stat.S_IMODE((tmp_path / "pki" / "ca.key").stat().st_mode) == 0o600
    # Opened again: the same authority, not a new one.
    assert CertificateAuthority.open_or_create(tmp_path / "pki").pem == ca.pem
    # Where the authority is, an executor's certificate is made at start, kept in memory, and
    # outlives any server's uptime; a bundle copied elsewhere lasts what it was made for.
    in_memory = executor_identity(tmp_path / "pki").not_after
    assert in_memory > dt.datetime.now(dt.UTC) + dt.timedelta(days=5 * 365)
    bundle = tmp_path / "bundle"
    write_bundle(ca.issue(EXECUTOR, days=1), bundle)
    assert stat.S_IMODE((bundle / f"{EXECUTOR}.key").stat().st_mode) == 0o600
    assert executor_identity(bundle).ca_pem == ca.pem
    with pytest.raises(CredentialsError, match="holds an executor's bundle"):
        CertificateAuthority.open_or_create(bundle)
    os.remove(bundle / f"{EXECUTOR}.key")
    with pytest.raises(CredentialsError, match=r"lacks botarena-executor\.key"):
        executor_identity(bundle)
    with pytest.raises(CredentialsError, match=r"lacks ca\.pem"):
        executor_identity(tmp_path / "empty")


PROBE = """
import socket, sys

def _try(what, family, address):
    probe = socket.socket(family, socket.SOCK_STREAM)
    probe.settimeout(2)
    try:
        probe.connect(address)
        print(f"REACHED {what}", file=sys.stderr)
    except OSError as exc:
        print(f"BLOCKED {what}: {exc}", file=sys.stderr)
    finally:
        probe.close()

_try("tcp", socket.AF_INET, ("127.0.0.1", PORT))
_try("unix", socket.AF_UNIX, SOCKET)

def agent(obs, conf):
    return [c for c in range(conf.columns) if obs.board[c] == 0][0]
"""


def test_an_agent_cannot_reach_the_executor(tmp_path: Path) -> None:
    """From inside its sandbox an agent finds neither the executor's port nor its socket,
    while both answer the dispatcher from outside."""
    require_sandbox()
    with serving_both_ways(tmp_path) as (address, socket):
        probe = f"PORT = {address.rpartition(':')[2]}\nSOCKET = {str(socket)!r}\n{PROBE}"
        folder = artifact_folder(tmp_path, "sub-probe", {"main.py": probe})
        agents = [pb.AgentSpec(name="probe", code_dir=str(folder))] * 2
        with dispatcher_client(f"unix:{socket}", tmp_path) as client:
            events = list(client.run_match(pb.MatchSpec(game="connectx", agents=agents)))
        with dispatcher_client(address, tmp_path) as client:
            assert client.health().serving
    result = wire.match_result(events[-1].finished)
    assert result.status.value == "finished", result.error
    for outcome in result.agents:
        assert "BLOCKED tcp" in outcome.log and "BLOCKED unix" in outcome.log, outcome.log
        assert "REACHED" not in outcome.log


def test_images_of_either_backends_registry_are_accepted(tmp_path: Path) -> None:
    settings = Settings(
        _env_file=None,  # type: ignore[call-arg]
        data_dir=tmp_path,
        registry="docker-registry.test:5000",
        k8s_registry="kube-registry.test:5000/botarena",
    )
    policy = ArtifactPolicy.from_settings(settings)
    for image in (
        "docker-registry.test:5000/agent-a:1",
        "kube-registry.test:5000/botarena/agent-a:1",
    ):
        spec = pb.AgentSpec(name="a", image=image, image_digest=DIGEST)
        assert policy.agent(spec).image == f"{image.rpartition(':')[0]}@{DIGEST}"
    with pytest.raises(ArtifactRefusedError, match="not from a configured registry"):
        policy.agent(
            pb.AgentSpec(name="a", image="kube-registry.test:5000/a:1", image_digest=DIGEST)
        )


def test_an_image_recorded_by_digest_is_sent_apart_and_accepted() -> None:
    policy = ArtifactPolicy(Path("/srv/botarena"), registries=("registry.test:5000",))
    pinned = f"registry.test:5000/agent-a:sub-1-v1@{DIGEST}"
    spec = wire.agent_spec(PreparedAgent.from_image("a", pinned), "sub-1", image_digest=DIGEST)
    assert (spec.image, spec.image_digest) == ("registry.test:5000/agent-a:sub-1-v1", DIGEST)
    assert policy.agent(spec).image == f"registry.test:5000/agent-a@{DIGEST}"
    other = "sha256:" + "cd" * 32
    with pytest.raises(ValueError, match="does not have the digest"):
        wire.agent_spec(PreparedAgent.from_image("a", pinned), "sub-1", image_digest=other)
