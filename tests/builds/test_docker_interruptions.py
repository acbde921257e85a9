"""The docker backend when its engine stops mid-build, and what failed builds leave behind: a
private dockerd of this module's own, stopped (SIGTERM) and started again."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from botarena.agents.models import Submission
from botarena.builds.backends.docker import DockerBackend
from botarena.builds.pipeline import BuildPipeline
from botarena.builds.queue import BuildQueue
from botarena.db.engine import SessionFactory
from botarena.jobs.backoff import Backoff
from botarena.settings import Settings
from botarena.storage import build_log_path

from support.accounts import Account
from support.api import create_agent, submit_archive, zip_files
from support.docker import DockerUnavailableError, Engine, build_python_image, start_docker
from support.services import require_service

pytestmark = pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
WORKER = "docker-worker"
AGENT = (
    Path(__file__).resolve().parents[2] / "examples/agents/connectx-random/main.py"
).read_bytes()


def _dockerfile(base: str) -> str:
    """An agent's own Dockerfile with a slow step, so the engine can be stopped during it."""
    return (
        f"FROM {base}\n"
        'RUN python -c "import time; time.sleep(6)"\n'
        "COPY .botarena/shim/ /opt/botarena/\n"
        "COPY main.py /agent/main.py\n"
        "ENV PYTHONPATH=/opt/botarena\n"
        "USER 65534:65534\n"
        'CMD ["python", "-m", "botarena.sdk", "--main", "/agent/main.py"]\n'
    )


@pytest.fixture(scope="module")
def own_engine() -> Iterator[tuple[Engine, str]]:
    """A dockerd that this module alone stops and starts, with the base image."""
    try:
        engine = start_docker()
    except DockerUnavailableError as exc:
        require_service("a Docker engine of its own", str(exc))
    try:
        client = engine.client()
        base = build_python_image(client, "botarena-test/python:3.11")
        client.close()
        yield engine, base
    finally:
        engine.stop()


@pytest.fixture
def docker_settings(settings: Settings, own_engine: tuple[Engine, str]) -> Settings:
    engine, base = own_engine
    return settings.model_copy(
        update={
            "build_backend": "docker",
            "docker_host": engine.url,
            "docker_base_image": base,
            "docker_build_network": "host",
        }
    )


def _run(factory: SessionFactory, settings: Settings, backend: DockerBackend, sub: str) -> None:
    with factory() as session:
        claimed = BuildQueue(session).claim_next(WORKER, backend.name, 60)
        session.commit()
        assert claimed is not None and claimed.id == sub
    BuildPipeline(factory, settings, backend, worker=WORKER, retry=Backoff(3, 0.0)).run(sub)


def _status(client: TestClient, sub: str) -> dict[str, Any]:
    body: dict[str, Any] = client.get(f"/api/v1/submissions/{sub}/build-status").json()
    return body


def _left(engine: Engine) -> tuple[int, int]:
    """Containers in any state, and untagged images, on the engine."""
    client = engine.client()
    try:
        containers = len(client.containers.list(all=True))
        dangling = len(client.images.list(filters={"dangling": True}))
    finally:
        client.close()
    return containers, dangling


def test_an_engine_stopped_mid_build_is_the_platforms_fault_and_leaves_nothing(
    client: TestClient,
    alice: Account,
    docker_settings: Settings,
    session_factory: SessionFactory,
    own_engine: tuple[Engine, str],
) -> None:
    engine, base = own_engine
    before = _left(engine)
    agent = create_agent(client, alice, "interrupted")
    files = {"Dockerfile": _dockerfile(base).encode(), "main.py": AGENT}
    sub = submit_archive(client, alice, agent, zip_files(files))
    backend = DockerBackend(docker_settings)
    try:
        worker = threading.Thread(
            target=_run, args=(session_factory, docker_settings, backend, sub)
        )
        worker.start()
        log = build_log_path(docker_settings, sub)
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and "Running in" not in _text(log):
            time.sleep(0.1)
        assert "Running in" in _text(log), _text(log)
        engine.interrupt()  # a normal stop, as a restart of the engine's service does
        worker.join(60)
        status = _status(client, sub)
        # Retried, never blamed on the participant's Dockerfile.
        assert status["status"] == "pending", (status, _text(log))
        assert status["errorMessage"] is None
        reason = status["statusHistory"][-1]
        assert reason["status"] == "pending"
        # The engine went away: back to the queue uncounted, to wait for the engine.
        assert "the docker backend went away during the build" in _text(log), _text(log)
        with session_factory() as session:
            row = session.get(Submission, sub)
            assert row is not None and row.attempts == 0

        engine.restart()
        _run(session_factory, docker_settings, backend, sub)
        assert _status(client, sub)["status"] == "success", _text(log)
    finally:
        backend.close()
    # The interrupted build's step container is gone, and nothing untagged was left.
    assert _left(engine) == before


def test_a_failed_dependencies_stage_leaves_nothing_behind(
    client: TestClient,
    alice: Account,
    docker_settings: Settings,
    session_factory: SessionFactory,
    own_engine: tuple[Engine, str],
) -> None:
    engine, _ = own_engine
    before = _left(engine)
    agent = create_agent(client, alice, "needy")
    files = {"main.py": AGENT, "requirements.txt": b"no-such==9\n"}
    sub = submit_archive(client, alice, agent, zip_files(files))
    backend = DockerBackend(docker_settings)
    try:
        _run(session_factory, docker_settings, backend, sub)
    finally:
        backend.close()
    status = _status(client, sub)
    assert status["status"] == "build_failed"
    assert status["errorMessage"].startswith("dependencies_failed:")
    assert _left(engine) == before


def _text(path: Any) -> str:
    try:
        text: str = path.read_text()
    except FileNotFoundError:
        return ""
    return text
