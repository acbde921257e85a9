"""What the server cannot run, asked of the real build workers: asked now (the banner) or as
the workers last found it (pages), with the backend's sentence."""

from __future__ import annotations

import time
from pathlib import Path

from botarena.app import build_backend
from botarena.builds.workers import BuildWorkers
from botarena.db.engine import SessionFactory
from botarena.readiness import Unavailable, unavailable
from botarena.settings import Settings


def test_builds_without_their_engine_are_named_with_the_reason(
    session_factory: SessionFactory, settings: Settings, tmp_path: Path
) -> None:
    settings = settings.model_copy(
        update={
            "build_backend": "docker",
            "docker_host": f"unix://{tmp_path / 'no-engine.sock'}",
            "build_check_interval": 0.1,
        }
    )
    workers = BuildWorkers(session_factory, settings, build_backend(settings))
    # Before the workers looked, pages know nothing yet; asking finds it at once.
    assert unavailable(settings, workers, ask=False) == []
    [asked] = unavailable(settings, workers)
    assert asked.part == "builds"
    assert asked.reason.startswith("the container engine cannot be reached")
    assert "BOTARENA_BUILD_BACKEND=local" in asked.reason
    assert asked.sentence() == f"builds cannot run (submissions wait): {asked.reason}"
    workers.start()
    try:
        deadline = time.monotonic() + 10
        while workers.last_unavailable_reason is None and time.monotonic() < deadline:
            time.sleep(0.05)
    finally:
        workers.stop()
    assert unavailable(settings, workers, ask=False) == [asked]


def test_nothing_enabled_nothing_to_say(settings: Settings) -> None:
    # Builds and matches off: no worker to ask, no sandbox to probe.
    assert not settings.builds_enabled and not settings.matches_enabled
    assert unavailable(settings, None) == []
    assert Unavailable("matches", "why").sentence() == "matches cannot run (matches wait): why"
