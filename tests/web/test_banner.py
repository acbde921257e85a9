"""The banner every page shows when builds cannot run, and its absence when they can."""

from __future__ import annotations

import time
from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient

from botarena.builds.backends.local import LocalBackend
from botarena.builds.workers import BuildWorkers
from botarena.executor.sandbox.isolation import probe_isolation
from botarena.settings import Settings

from support.pages import page_of


@pytest.fixture
def workers_without_bwrap(
    client: TestClient, settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> Iterator[BuildWorkers]:
    """Real build workers on the local backend, on a machine where bubblewrap is not found
    (it is not on the PATH they search): they find it missing and take no build."""
    monkeypatch.setenv("PATH", "/nonexistent")
    # The sandbox is probed once per process: probe again without bubblewrap, and again after.
    probe_isolation.cache_clear()
    app = client.app
    backend = LocalBackend(settings.data_dir)
    workers = BuildWorkers(app.state.session_factory, settings, backend)  # type: ignore[attr-defined]
    workers.start()
    app.state.builds = workers  # type: ignore[attr-defined]
    try:
        deadline = time.monotonic() + 20
        while workers.last_unavailable_reason is None:
            assert time.monotonic() < deadline, "the workers never looked at their backend"
            time.sleep(0.05)
        yield workers
    finally:
        workers.stop()
        app.state.builds = None  # type: ignore[attr-defined]
        probe_isolation.cache_clear()


def test_every_page_says_when_builds_cannot_run(
    client: TestClient, workers_without_bwrap: BuildWorkers
) -> None:
    reason = workers_without_bwrap.last_unavailable_reason
    assert reason is not None and "bubblewrap is not installed" in reason
    for path in ("/", "/games/connectx", "/login", "/games/nope"):
        banners = page_of(client.get(path)).all("p", class_="banner")
        assert len(banners) == 1, path
        assert banners[0].attrs["role"] == "alert"
        assert banners[0].text.startswith("Builds cannot run on this server:")
        assert reason in banners[0].text


def test_no_banner_while_all_is_well(client: TestClient) -> None:
    assert page_of(client.get("/")).all("p", class_="banner") == []
