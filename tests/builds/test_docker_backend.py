"""The docker backend through the real pipeline, against a private dockerd and a registry on
loopback: build, push, pull back, the layer cache, and every way such a build can fail."""

from __future__ import annotations

import re
import socket
import sys
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi.testclient import TestClient

from botarena.agents.models import Submission
from botarena.builds.backends.base import Artifact
from botarena.builds.backends.docker import DockerBackend
from botarena.builds.pipeline import BuildPipeline
from botarena.builds.queue import BuildQueue
from botarena.db.engine import SessionFactory
from botarena.executor.match import run_match
from botarena.executor.sandbox import Limits
from botarena.executor.sandbox.limits import MIB
from botarena.games.registry import get_game
from botarena.settings import Settings

from support.accounts import Account
from support.api import create_agent, submit_archive, zip_files
from support.docker import Engine, Registry
from support.rows import submission_row as _row

pytestmark = pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)

EXAMPLES = Path(__file__).resolve().parents[2] / "examples" / "agents"
WORKER = "docker-worker"
RANDOM_AGENT = (EXAMPLES / "connectx-random" / "main.py").read_bytes()


@pytest.fixture
def docker_settings(
    settings: Settings, any_engine: tuple[Engine, str], registry: Registry
) -> Settings:
    """The docker backend on each engine (dockerd, podman), pushing to the run's registry."""
    engine, base_image = any_engine
    return settings.model_copy(
        update={
            "build_backend": "docker",
            "docker_host": engine.url,
            "docker_base_image": base_image,
            # The tests' engine has no bridge network: builds install on the host's.
            "docker_build_network": "host",
            "registry": registry.address,
        }
    )


@pytest.fixture
def backend(docker_settings: Settings) -> Iterator[DockerBackend]:
    built = DockerBackend(docker_settings, Limits(memory_bytes=256 * MIB, pids=64))
    yield built
    built.close()


def _build(factory: SessionFactory, settings: Settings, backend: DockerBackend, sub: str) -> None:
    with factory() as session:
        claimed = BuildQueue(session).claim_next(WORKER, backend.name, 60)
        session.commit()
        assert claimed is not None and claimed.id == sub
    BuildPipeline(factory, settings, backend, worker=WORKER).run(sub)


def _status(client: TestClient, sub: str) -> dict[str, Any]:
    body: dict[str, Any] = client.get(f"/api/v1/submissions/{sub}/build-status").json()
    return body


def _log(client: TestClient, account: Account, sub: str) -> str:
    answer = client.get(f"/api/v1/submissions/{sub}/build-logs", headers=account.headers)
    text: str = answer.json()["buildLog"]
    return text


def _artifact(factory: SessionFactory, sub: str) -> Artifact:
    stored = _row(factory, sub).artifact
    assert stored is not None
    return Artifact.from_json(stored)


def test_builds_pushes_and_plays_the_image_pulled_back(
    client: TestClient,
    alice: Account,
    docker_settings: Settings,
    session_factory: SessionFactory,
    backend: DockerBackend,
    any_engine: tuple[Engine, str],
    registry: Registry,
) -> None:
    agent = create_agent(client, alice, "boxed")
    sub = submit_archive(client, alice, agent, zip_files({"main.py": RANDOM_AGENT}))
    _build(session_factory, docker_settings, backend, sub)

    status = _status(client, sub)
    assert status["status"] == "success", _log(client, alice, sub)
    # Each build attempt tags an image of its own: version, then the attempt's build id.
    image = status["dockerImageUrl"]
    assert re.fullmatch(
        rf"{registry.address}/agent-{agent}:{sub}-v1-\d{{8}}T\d{{12}}-[0-9a-f]{{6}}", image
    )
    assert status["buildJobName"] == f"build-{sub}"
    tags = httpx.get(f"http://{registry.address}/v2/agent-{agent}/tags/list").json()
    assert tags["tags"] == [image.rpartition(":")[2]]
    log = _log(client, alice, sub)
    assert "generated Dockerfile" in log and f"pushed {image}" in log

    # Gone from the engine, the image comes back from the registry for the next match.
    client_ = any_engine[0].client()
    client_.images.remove(image, force=True)
    artifact = _artifact(session_factory, sub)
    game = get_game("connectx")
    agent_ = artifact.prepared("boxed")
    result = run_match(game, game.configure({}), [agent_, agent_], backend.runner(), seed=2)
    assert result.status.value == "finished", result.error
    assert client_.images.get(image).id
    client_.close()


@dataclass
class Built:
    agent: str
    sub: str
    status: dict[str, Any]
    log: str


BuildFiles = Callable[..., Built]


@pytest.fixture
def build_files(
    client: TestClient,
    alice: Account,
    docker_settings: Settings,
    session_factory: SessionFactory,
    backend: DockerBackend,
) -> BuildFiles:
    """``build_files(name, files, agent=None)``: submit ``files`` as a zip and build them
    (or, with ``existing=``, build that submission again)."""

    def build(
        name: str,
        files: dict[str, bytes],
        agent: str | None = None,
        *,
        settings: Settings | None = None,
        backend: DockerBackend = backend,
        existing: str | None = None,
    ) -> Built:
        if existing is None:
            agent = agent or create_agent(client, alice, name)
            sub = submit_archive(client, alice, agent, zip_files(files))
        else:
            sub = existing
        _build(session_factory, settings or docker_settings, backend, sub)
        return Built(agent or "", sub, _status(client, sub), _log(client, alice, sub))

    return build


def test_a_second_build_reuses_the_installed_requirements(build_files: BuildFiles) -> None:
    files = {"main.py": RANDOM_AGENT, "requirements.txt": b"six==1.16.0\n"}
    first = build_files("cached", files)
    assert first.status["status"] == "success", first.log
    changed = {**files, "main.py": RANDOM_AGENT + b"\n# a change of code alone\n"}
    second = build_files("cached", changed, agent=first.agent)
    assert second.status["status"] == "success", second.log
    lines = second.log.splitlines()
    install = next(i for i, line in enumerate(lines) if "pip install" in line)
    assert "Using cache" in lines[install + 1], lines[install : install + 3]
    assert "Using cache" not in first.log.split("pip install")[1].splitlines()[1]


def test_a_broken_dockerfile_fails_once_with_its_output(
    build_files: BuildFiles, docker_settings: Settings
) -> None:
    dockerfile = (
        f"FROM {docker_settings.docker_base_image}\nRUN echo the-step-output && exit 3\n".encode()
    )
    built = build_files("broken", {"Dockerfile": dockerfile, "main.py": RANDOM_AGENT})
    message = built.status["errorMessage"]
    assert built.status["status"] == "build_failed"
    assert message.startswith("dockerfile_failed: the Dockerfile did not build")
    # dockerd: "returned a non-zero code: 3"; podman: "exit status 3".
    assert re.search(r"(non-zero code:|exit status) 3$", message), message
    assert "the-step-output" in built.log
    history = [h["status"] for h in built.status["statusHistory"]]
    assert history == ["pending", "building", "build_failed"]  # not retried


def test_requirements_that_cannot_install_fail_as_dependencies(build_files: BuildFiles) -> None:
    files = {"main.py": RANDOM_AGENT, "requirements.txt": b"botarena-no-such-package==9.9\n"}
    built = build_files("needy", files)
    assert built.status["status"] == "build_failed"
    assert built.status["errorMessage"].startswith("dependencies_failed:")
    assert "botarena-no-such-package" in built.log


def test_a_dockerfile_of_its_own_runs_the_shim_it_was_given(
    build_files: BuildFiles, docker_settings: Settings
) -> None:
    dockerfile = (
        f"FROM {docker_settings.docker_base_image}\n"
        "COPY .botarena/shim/ /opt/botarena/\n"
        "COPY main.py /agent/main.py\n"
        "ENV PYTHONPATH=/opt/botarena\n"
        'CMD ["python", "-m", "botarena.sdk", "--main", "/agent/main.py"]\n'
    ).encode()
    built = build_files("own-dockerfile", {"Dockerfile": dockerfile, "main.py": RANDOM_AGENT})
    assert built.status["status"] == "success", built.log
    assert "the submission's Dockerfile" in built.log


def test_an_image_that_fails_validation(build_files: BuildFiles) -> None:
    crashing = b'def agent(o, c):\n    raise RuntimeError("nope")\n'
    built = build_files("crasher", {"main.py": crashing})
    assert built.status["errorMessage"].startswith("validation_failed:")
    assert "RuntimeError: nope" in built.log


# -- the image scan ------------------------------------------------------------------------
REPORT = {
    "SchemaVersion": 2,
    "ArtifactName": "image",
    "ArtifactType": "container_image",
    "Results": [
        {
            "Target": "image (debian 12.5)",
            "Class": "os-pkgs",
            "Type": "debian",
            "Vulnerabilities": [
                {
                    "VulnerabilityID": "CVE-2024-0001",
                    "PkgName": "openssl",
                    "InstalledVersion": "3.0.11-1",
                    "FixedVersion": "3.0.13-1",
                    "Severity": "HIGH",
                    "Title": "openssl: a made-up flaw",
                },
                {
                    "VulnerabilityID": "CVE-2024-0002",
                    "PkgName": "zlib1g",
                    "InstalledVersion": "1.2.13",
                    "Severity": "LOW",
                    "Title": "zlib: another",
                },
            ],
        }
    ],
}


@pytest.fixture
def scanner(tmp_path: Path) -> str:
    """A stand-in for Trivy: records the image it was given, prints a report in its format."""
    script = tmp_path / "fake-trivy.py"
    script.write_text(
        "import json, sys\n"
        f"open({str(tmp_path / 'scanned')!r}, 'w').write(sys.argv[-1])\n"
        f"print(json.dumps({REPORT!r}))\n"
    )
    return f"{sys.executable} {script} image --format json"


@pytest.mark.parametrize("blocking", [False, True], ids=["warning", "blocking"])
def test_scan_findings_are_warnings_unless_blocking(
    client: TestClient,
    alice: Account,
    docker_settings: Settings,
    session_factory: SessionFactory,
    scanner: str,
    tmp_path: Path,
    blocking: bool,
) -> None:
    settings = docker_settings.model_copy(
        update={"scan_command": scanner, "scan_blocking": blocking}
    )
    backend = DockerBackend(settings, Limits(memory_bytes=256 * MIB, pids=64))
    agent = create_agent(client, alice, "scanned")
    sub = submit_archive(client, alice, agent, zip_files({"main.py": RANDOM_AGENT}))
    try:
        _build(session_factory, settings, backend, sub)
    finally:
        backend.close()

    status = _status(client, sub)
    image = (tmp_path / "scanned").read_text()
    assert image.startswith(f"{settings.registry}/agent-{agent}:{sub}-v1-")
    log = _log(client, alice, sub)
    assert "CVE-2024-0001 (HIGH) in openssl 3.0.11-1, fixed in 3.0.13-1" in log
    if blocking:
        assert status["status"] == "build_failed"
        assert status["errorMessage"].startswith("validation_failed: the image scan found 1 HIGH")
    else:
        assert status["status"] == "success", log
        assert _artifact(session_factory, sub).image == image
        assert status["warnings"] == [
            "CVE-2024-0001 (HIGH) in openssl 3.0.11-1, fixed in 3.0.13-1: openssl: a made-up flaw",
            "CVE-2024-0002 (LOW) in zlib1g 1.2.13: zlib: another",
        ]


# -- the platform's own faults ------------------------------------------------------------
def test_a_registry_that_refuses_the_push_is_retried_then_internal(
    build_files: BuildFiles, docker_settings: Settings, session_factory: SessionFactory
) -> None:
    """A push that fails is the platform's fault: back to the queue with backoff, three
    times, then ``internal``; the participant's code is never blamed."""
    with socket.socket() as probe:  # a port on which nothing listens
        probe.bind(("127.0.0.1", 0))
        closed = f"127.0.0.1:{probe.getsockname()[1]}"
    down = docker_settings.model_copy(update={"registry": closed})
    backend = DockerBackend(down)
    try:
        first = build_files("unlucky", {"main.py": RANDOM_AGENT}, settings=down, backend=backend)
        assert first.status["status"] == "pending", first.log
        assert "the push failed" in first.log
        for _ in range(2):
            _set_due(session_factory, first.sub)
            again = build_files("", {}, settings=down, backend=backend, existing=first.sub)
        final = again.status
    finally:
        backend.close()
    assert final["status"] == "build_failed"
    assert final["errorMessage"].startswith("internal: the build failed 3 times")
    assert "the push failed" in final["errorMessage"]


def _set_due(factory: SessionFactory, sub: str) -> None:
    with factory() as session:
        row = session.get(Submission, sub)
        assert row is not None
        row.not_before = None
        session.commit()


# -- the engine away, then back ------------------------------------------------------------
def test_an_unreachable_engine_keeps_the_build_queued_then_builds_it(
    client: TestClient,
    alice: Account,
    docker_settings: Settings,
    session_factory: SessionFactory,
    tmp_path: Path,
) -> None:
    away = docker_settings.model_copy(
        update={"docker_host": f"unix://{tmp_path / 'no-engine.sock'}"}
    )
    down = DockerBackend(away)
    assert "cannot be reached" in (down.unavailable_reason() or "")
    agent = create_agent(client, alice, "patient")
    sub = submit_archive(client, alice, agent, zip_files({"main.py": RANDOM_AGENT}))
    _build(session_factory, away, down, sub)
    status = _status(client, sub)
    assert status["status"] == "pending" and status["queuePosition"] == 0
    assert [h["status"] for h in status["statusHistory"]] == ["pending", "building", "pending"]

    up = DockerBackend(docker_settings)
    assert up.unavailable_reason() is None
    assert _row(session_factory, sub).attempts == 0  # waiting used no retry
    _set_due(session_factory, sub)
    _build(session_factory, docker_settings, up, sub)
    up.close()
    assert _status(client, sub)["status"] == "success", _log(client, alice, sub)
