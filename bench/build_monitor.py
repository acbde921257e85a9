"""How fast a finished build shows in the API, and what one monitor pass costs.

    python bench/build_monitor.py --builds 200 --building 1000 --json

- ``visible_latency_ms_p50`` / ``_p99``: from the moment a build's backend returns to the
  moment ``GET /build-status`` shows the new status, over ``--builds`` builds run by the real
  build service (one worker) with a stand-in backend that returns at once, while a client
  polls the API every 10 ms. (Polling a monitor every 10 s would average 5 s.)
- ``monitor_pass_ms_p50``: one monitor pass (``BuildWorkers.reconcile``) over ``--building``
  submissions held by live workers, on SQLite.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
import threading
import time
from datetime import timedelta
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent / "src"))

from _platform import new_user_headers  # noqa: E402
from fastapi.testclient import TestClient  # noqa: E402
from sqlalchemy import update  # noqa: E402

from botarena.agents.models import Submission  # noqa: E402
from botarena.app import create_app  # noqa: E402
from botarena.builds.backends.base import Artifact, BuildTarget  # noqa: E402
from botarena.builds.pipeline import BuildPipeline  # noqa: E402
from botarena.builds.queue import BuildQueue  # noqa: E402
from botarena.builds.workers import BuildWorkers  # noqa: E402
from botarena.clock import utcnow  # noqa: E402
from botarena.logging import configure_logging  # noqa: E402
from botarena.settings import Settings  # noqa: E402


class InstantBackend:
    """Builds nothing, at once, and notes when each build returned."""

    name = "local"

    def __init__(self) -> None:
        self.returned: dict[str, float] = {}

    def unavailable_reason(self) -> str | None:
        return None

    def build(self, target: BuildTarget, source: Path, log: Any) -> Artifact:
        self.returned[target.submission_id] = time.perf_counter()
        return Artifact(backend="local", code_dir=str(source))

    def runner(self) -> Any:
        raise NotImplementedError


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--builds", type=int, default=200)
    parser.add_argument("--building", type=int, default=1000)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    configure_logging("WARNING", "console")
    with tempfile.TemporaryDirectory() as folder:
        settings = Settings(
            _env_file=None,  # type: ignore[call-arg]
            data_dir=Path(folder),
            builds_enabled=False,
            matches_enabled=False,
            ladder_enabled=False,
            git_allow_http=True,
        )
        with TestClient(create_app(settings)) as client:
            report = {
                **_visibility(client, settings, args.builds),
                **_monitor_pass(client, settings, args.building),
            }
    print(json.dumps(report, indent=None if args.json else 2))


def _visibility(client: TestClient, settings: Settings, builds: int) -> dict[str, float]:
    factory = client.app.state.session_factory  # type: ignore[attr-defined]
    headers = new_user_headers(factory, "bench")
    agent = client.post("/api/v1/agents", json={"name": "b", "game": "rps"}, headers=headers)
    backend = InstantBackend()
    service = BuildWorkers(factory, settings, backend)
    # No fetch and no validation match: this measures recording and reading, not building.
    BuildPipeline._source = lambda self, job, workdir, log: (workdir, None)  # type: ignore[method-assign]
    BuildPipeline._validate = lambda *args, **kwargs: None  # type: ignore[method-assign]
    service.start()
    latencies = []
    try:
        for _ in range(builds):
            created = client.post(
                "/api/v1/submissions",
                json={"agentId": agent.json()["id"], "codeUrl": "https://example.com/a/b"},
                headers=headers,
            ).json()["submission"]["id"]
            service.wake()
            while True:
                status = client.get(f"/api/v1/submissions/{created}/build-status").json()
                if status["status"] == "success":
                    latencies.append(time.perf_counter() - backend.returned[created])
                    break
                time.sleep(0.01)
    finally:
        service.stop()
    latencies.sort()
    return {
        "builds": builds,
        "visible_latency_ms_p50": round(statistics.median(latencies) * 1000, 2),
        "visible_latency_ms_p99": round(latencies[int(len(latencies) * 0.99) - 1] * 1000, 2),
    }


def _monitor_pass(client: TestClient, settings: Settings, building: int) -> dict[str, float]:
    factory = client.app.state.session_factory  # type: ignore[attr-defined]
    headers = new_user_headers(factory, "bench2")
    agent = client.post("/api/v1/agents", json={"name": "m", "game": "rps"}, headers=headers)
    for _ in range(building):
        client.post(
            "/api/v1/submissions",
            json={"agentId": agent.json()["id"], "codeUrl": "https://example.com/a/b"},
            headers=headers,
        )
    with factory() as session:
        queue = BuildQueue(session)
        while queue.claim_next("live-worker", "local", 3600) is not None:
            pass
        session.execute(
            update(Submission)
            .where(Submission.lease_owner == "live-worker")
            .values(heartbeat_at=utcnow() + timedelta(minutes=1))
        )
        session.commit()
    service = BuildWorkers(factory, settings, InstantBackend())
    passes = []
    for _ in range(20):
        started = time.perf_counter()
        service.reconcile()
        passes.append(time.perf_counter() - started)
    with factory() as session:
        count = len(BuildQueue(session).building())
    return {
        "building": count,
        "monitor_pass_ms_p50": round(statistics.median(passes) * 1000, 2),
        "monitor_pass_ms_max": round(max(passes) * 1000, 2),
    }


if __name__ == "__main__":
    threading.excepthook = lambda info: print("thread failed:", info.exc_value, file=sys.stderr)
    main()
