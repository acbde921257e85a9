"""Shared fixtures: a database per test on SQLite and on a real PostgreSQL, and the real app.

Every database starts from the migrations (applied once per run and backend), so the
migrations are exercised by every test. PostgreSQL is started by the run itself; under
``CI=true`` a test that cannot have it fails instead of skipping.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Protocol, TypeVar

import pytest
from fastapi.testclient import TestClient

from botarena.accounts.service import AccountService
from botarena.app import create_app
from botarena.db import migrate
from botarena.db.engine import SessionFactory, build_engine, session_scope
from botarena.models import metadata
from botarena.settings import Settings

from support.accounts import Account, MakeUser
from support.docker import (
    DockerUnavailableError,
    Engine,
    Registry,
    build_python_image,
    start_docker,
    start_podman,
    start_registry,
)
from support.postgres import PostgresServer, PostgresUnavailable, start_postgres
from support.services import require_sandbox, require_service

IN_CI = os.environ.get("CI") == "true"

# The browser tests' fixtures: Debian's chromium, a live server, guarded contexts, screenshots;
# the fake Kubernetes API server's.
pytest_plugins = (
    "support.browser",
    "support.court",
    "support.hashing",
    "support.kubefake.fixtures",
    "support.migration_scripts",
    "support.referee_image",
    "support.signatures",
    "support.tracebacks",
)


@pytest.fixture(scope="session")
def download_cache(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """``BOTARENA_TEST_CACHE`` when set (kept between runs), else a folder of this run."""
    configured = os.environ.get("BOTARENA_TEST_CACHE")
    if configured:
        path = Path(configured)
        path.mkdir(parents=True, exist_ok=True)
        return path
    return tmp_path_factory.mktemp("download-cache")


class _Stoppable(Protocol):
    def stop(self) -> None: ...


_Service = TypeVar("_Service", bound=_Stoppable)


def _run_service(
    name: str, start: Callable[[], _Service], unavailable: type[Exception]
) -> Iterator[_Service]:
    """Start a service for the run and stop it at the end; skip (or fail under CI=true) the
    tests that need it when it cannot start."""
    try:
        service = start()
    except unavailable as exc:
        require_service(name, str(exc))
    try:
        yield service
    finally:
        service.stop()


@pytest.fixture(scope="session")
def postgres_server() -> Iterator[PostgresServer]:
    yield from _run_service("PostgreSQL", start_postgres, PostgresUnavailable)


@pytest.fixture(scope="session")
def docker_daemon() -> Iterator[Engine]:
    """A private Docker engine for the run (Debian's dockerd, data in a temporary folder)."""
    yield from _run_service("the Docker engine", start_docker, DockerUnavailableError)


@pytest.fixture(scope="session")
def podman_service(registry: Registry) -> Iterator[Engine]:
    """podman's Engine API service for the run (Debian's podman, storage in a temporary
    folder), trusting the run's registry."""
    yield from _run_service(
        "podman's API service", lambda: start_podman(registry.address), DockerUnavailableError
    )


def _base_image(engine: Engine) -> str:
    """A python:3.11-slim-like base image in ``engine``, made from this machine's Python."""
    client = engine.client()
    try:
        return build_python_image(client, "botarena-test/python:3.11")
    finally:
        client.close()


@pytest.fixture(scope="session")
def python_image(docker_daemon: Engine) -> str:
    """The base image in the run's dockerd, made once per run."""
    return _base_image(docker_daemon)


@pytest.fixture(scope="session")
def podman_python_image(podman_service: Engine) -> str:
    """The base image in the run's podman service, made once per run."""
    return _base_image(podman_service)


@pytest.fixture(params=["dockerd", "podman"])
def any_engine(request: pytest.FixtureRequest) -> tuple[Engine, str]:
    """Each engine the docker backend and runner must work with, and its base image."""
    if request.param == "podman":
        return request.getfixturevalue("podman_service"), request.getfixturevalue(
            "podman_python_image"
        )
    return request.getfixturevalue("docker_daemon"), request.getfixturevalue("python_image")


@pytest.fixture(params=["local", "docker"])
def backend_settings(request: pytest.FixtureRequest) -> dict[str, str]:
    """The settings that make a server build with each backend: ``local`` (the sandbox) or
    ``docker`` (the run's dockerd, its base image; builds install on the host's network)."""
    if request.param == "local":
        require_sandbox()
        return {"build_backend": "local"}
    engine: Engine = request.getfixturevalue("docker_daemon")
    return {
        "build_backend": "docker",
        "docker_host": engine.url,
        "docker_base_image": request.getfixturevalue("python_image"),
        "docker_build_network": "host",
    }


@pytest.fixture(scope="session")
def registry() -> Iterator[Registry]:
    """Debian's docker-registry on a free port of 127.0.0.1, for the run."""
    yield from _run_service("docker-registry", start_registry, DockerUnavailableError)


@pytest.fixture(scope="session")
def postgres_template_url(postgres_server: PostgresServer) -> str:
    """A PostgreSQL database migrated to head once per run; tests empty it between them."""
    url = postgres_server.create_database("botarena_test")
    engine = build_engine(url)
    migrate.upgrade(engine)
    engine.dispose()
    return url


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A SQLite file migrated to head once per run; each test gets a copy."""
    path = tmp_path_factory.mktemp("sqlite-template") / "template.db"
    engine = build_engine(f"sqlite:///{path}")
    migrate.upgrade(engine)
    engine.dispose()
    return path


# Every table emptied, children first, and every sequence a test advanced started again: what
# TRUNCATE … RESTART IDENTITY did, in about half its time (TRUNCATE makes each table's files
# anew; a test leaves a handful of rows), in one round trip, before each PostgreSQL test.
# (``%%`` is a ``%`` that the driver passes on.)
_RESTART_SEQUENCES = (
    "DO $$ DECLARE used record; BEGIN\n"
    "  FOR used IN SELECT schemaname, sequencename FROM pg_sequences\n"
    "      WHERE last_value IS NOT NULL LOOP\n"
    "    EXECUTE format('ALTER SEQUENCE %%I.%%I RESTART', used.schemaname, used.sequencename);\n"
    "  END LOOP;\n"
    "END $$;"
)
# The models' own table names, not input.
_DELETES = [f'DELETE FROM "{table.name}";' for table in reversed(metadata.sorted_tables)]  # noqa: S608
_EMPTY_POSTGRES = "\n".join([*_DELETES, _RESTART_SEQUENCES])


def _empty_postgres(url: str) -> None:
    engine = build_engine(url)
    with engine.begin() as connection:
        connection.exec_driver_sql(_EMPTY_POSTGRES)
    engine.dispose()


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """A migrated, empty database of each backend."""
    if request.param == "sqlite":
        template: Path = request.getfixturevalue("sqlite_template")
        target = tmp_path / "data" / "botarena.db"
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(template, target)
        return f"sqlite:///{target}"
    url: str = request.getfixturevalue("postgres_template_url")
    _empty_postgres(url)
    return url


@pytest.fixture
def settings(tmp_path: Path, database_url: str) -> Settings:
    return Settings(
        _env_file=None,  # type: ignore[call-arg]
        data_dir=tmp_path / "data",
        database_url=database_url,
        archive_max_bytes=1024 * 1024,
        archive_max_files=50,
        archive_max_unpacked_bytes=4 * 1024 * 1024,
        # Build workers are started by the tests that need them, never behind others' backs.
        builds_enabled=False,
        matches_enabled=False,
        ladder_enabled=False,
        notifications_enabled=False,
    )


@pytest.fixture
def client(settings: Settings) -> Iterator[TestClient]:
    """The real application, started (migrations included) and stopped around the test."""
    with TestClient(create_app(settings)) as test_client:
        yield test_client


@pytest.fixture
def make_user(client: TestClient) -> MakeUser:
    """``make_user(name, admin=False, password=None) -> Account``, straight in the database."""

    def make(name: str, *, admin: bool = False, password: str | None = None) -> Account:
        factory: SessionFactory = client.app.state.session_factory  # type: ignore[attr-defined]
        with session_scope(factory) as session:
            user, issued = AccountService(session).create_user(name, password, admin=admin)
        return Account(user.id, user.username, issued.secret)

    return make


@pytest.fixture
def alice(make_user: MakeUser) -> Account:
    return make_user("alice", password="alice-password")


@pytest.fixture
def bob(make_user: MakeUser) -> Account:
    return make_user("bob")


@pytest.fixture
def admin(make_user: MakeUser) -> Account:
    return make_user("root", admin=True)


@pytest.fixture
def session_factory(client: TestClient) -> SessionFactory:
    factory: SessionFactory = client.app.state.session_factory  # type: ignore[attr-defined]
    return factory
