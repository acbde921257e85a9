"""``/readyz``: 200 when the server can do its work, 503 naming each failing check and why;
through the real app on both databases, with real build workers and the real sandbox probe."""

from __future__ import annotations

import os
import time
from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient

from botarena.builds.backends.local import LocalBackend
from botarena.builds.workers import BuildWorkers
from botarena.db import migrate
from botarena.db.engine import build_engine
from botarena.executor.sandbox.isolation import probe_isolation
from botarena.health import readiness
from botarena.settings import Settings

sqlite_only = pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)


@pytest.fixture
def without_bubblewrap(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """A machine where bubblewrap is not found (the sandbox is probed once per process:
    again without it, and again after)."""
    monkeypatch.setenv("PATH", "/nonexistent")
    probe_isolation.cache_clear()
    yield
    probe_isolation.cache_clear()


def test_a_server_that_can_work_is_ready(client: TestClient) -> None:
    answer = client.get("/readyz")
    assert answer.status_code == 200, answer.text
    body = answer.json()
    assert body["status"] == "ready" and body["failing"] == []
    assert list(body["checks"]) == ["database", "migrations", "builds", "sandbox"]
    assert all(check["ok"] for check in body["checks"].values())


def test_migrations_behind_the_code_are_named(client: TestClient, settings: Settings) -> None:
    engine = build_engine(settings.resolved_database_url)
    try:
        migrate.downgrade(engine, "0010")
        answer = client.get("/readyz")
        assert answer.status_code == 503
        body = answer.json()
        assert body["failing"] == ["migrations"]
        detail = body["checks"]["migrations"]["detail"]
        assert "at revision 0010" in detail and "botarena migrate" in detail
        assert client.get("/healthz").status_code == 200  # alive all the same
    finally:
        migrate.upgrade(engine)
        engine.dispose()
    assert client.get("/readyz").status_code == 200


@sqlite_only
def test_a_database_that_does_not_answer_is_named_without_its_address(
    client: TestClient, settings: Settings
) -> None:
    path = settings.resolved_database_url.removeprefix("sqlite:///")
    moved = f"{path}.away"
    os.rename(path, moved)
    os.mkdir(path)  # a folder where the file was: nothing can open it
    client.app.state.engine.dispose()  # type: ignore[attr-defined]
    try:
        answer = client.get("/readyz")
        assert answer.status_code == 503
        body = answer.json()
        assert body["failing"] == ["database"]
        detail = body["checks"]["database"]["detail"]
        assert detail.startswith("the database did not answer") and path not in answer.text
        assert body["checks"]["migrations"] == {
            "ok": None,
            "detail": "not checked: the database did not answer",
        }
        assert body["checks"]["builds"]["ok"] and body["checks"]["sandbox"]["ok"]
    finally:
        os.rmdir(path)
        os.rename(moved, path)
        client.app.state.engine.dispose()  # type: ignore[attr-defined]
    assert client.get("/readyz").status_code == 200


@sqlite_only
def test_build_workers_without_their_backend_make_the_server_unready(
    client: TestClient, settings: Settings, without_bubblewrap: None
) -> None:
    app = client.app
    workers = BuildWorkers(app.state.session_factory, settings, LocalBackend(settings.data_dir))  # type: ignore[attr-defined]
    workers.start()
    app.state.builds = workers  # type: ignore[attr-defined]
    try:
        deadline = time.monotonic() + 20
        while workers.last_unavailable_reason is None:
            assert time.monotonic() < deadline, "the workers never looked at their backend"
            time.sleep(0.05)
        answer = client.get("/readyz")
    finally:
        workers.stop()
    assert answer.status_code == 503
    body = answer.json()
    assert body["failing"] == ["builds"]
    assert "bubblewrap" in body["checks"]["builds"]["detail"]


@sqlite_only
def test_matches_without_a_sandbox_fail_the_sandbox_check(
    client: TestClient, settings: Settings, without_bubblewrap: None
) -> None:
    playing = settings.model_copy(update={"matches_enabled": True, "executors": []})
    engine = build_engine(settings.resolved_database_url)
    try:
        checks = {c.name: c for c in readiness(engine, playing, None)}
    finally:
        engine.dispose()
    assert not checks["sandbox"].ok and "bubblewrap" in (checks["sandbox"].detail or "")
    assert checks["database"].ok and checks["migrations"].ok and checks["builds"].ok
