"""Matches through the whole platform: the API, the queue in the database, the dispatcher and
the executor over gRPC, beside the same matches played directly, in one run.

    python bench/platform_throughput.py --matches 100 --json

On SQLite in a temporary data folder, the real app serves (in process) with its embedded
executor (``--capacity`` matches at once, the local runner with its fork servers). Two agents
of the connectx example are registered with a built artifact each; ``--matches`` matches are
created through ``POST /api/v1/matches`` at once, and the run ends when the API shows every
one ended. It prints one JSON object:

- ``platform_matches_per_second``: matches per wall-clock second, from the first request to
  the last match shown ended;
- ``created_to_ended_ms_p50`` / ``_p99``: per match, from its creation to its end as recorded;
- ``direct_matches_per_second``: the same number of matches played with ``run_match`` on one
  runner per slot, no API, database or gRPC (measured right after, in the same process);
- ``platform_vs_direct``: the share of the direct rate that survives the platform's path.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import ExitStack, contextmanager
from pathlib import Path
from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy import select

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "src"))

from _platform import new_user_headers  # noqa: E402

from botarena.agents.models import Submission  # noqa: E402
from botarena.app import create_app  # noqa: E402
from botarena.builds.backends.base import Artifact  # noqa: E402
from botarena.db.engine import session_scope  # noqa: E402
from botarena.executor.credentials import CertificateAuthority  # noqa: E402
from botarena.executor.match import run_match  # noqa: E402
from botarena.executor.prepare import prepare_agent  # noqa: E402
from botarena.executor.runners.local import LocalRunner  # noqa: E402
from botarena.games.registry import get_game  # noqa: E402
from botarena.logging import configure_logging  # noqa: E402
from botarena.matches.models import Match  # noqa: E402
from botarena.settings import Settings  # noqa: E402

EXAMPLE = ROOT / "examples" / "agents" / "connectx-random"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--matches", type=int, default=100)
    parser.add_argument("--capacity", type=int, default=2)
    parser.add_argument(
        "--external",
        action="store_true",
        help="dispatch to a 'botarena executor' process instead of the embedded executor",
    )
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    configure_logging("WARNING", "console")
    with tempfile.TemporaryDirectory() as folder:
        report = _platform(Path(folder), args.matches, args.capacity, args.external)
    report["direct_matches_per_second"] = _direct(args.matches, args.capacity)
    report["platform_vs_direct"] = round(
        report["platform_matches_per_second"] / report["direct_matches_per_second"], 3
    )
    print(json.dumps(report, indent=None if args.json else 2))


def _platform(folder: Path, matches: int, capacity: int, external: bool) -> dict[str, Any]:
    with ExitStack() as stack:
        executors: tuple[str, ...] = ()
        if external:
            executors = (stack.enter_context(_executor_process(folder, capacity)),)
        settings = Settings(
            _env_file=None,  # type: ignore[call-arg]
            data_dir=folder,
            builds_enabled=False,
            matches_enabled=True,
            ladder_enabled=False,
            scrimmage_quota=1_000_000,  # the bench's one user makes every match
            executors=executors,
            executor_capacity=capacity,
            log_level="WARNING",
        )
        report = _through_the_api(folder, settings, matches)
    report.update(capacity=capacity, executor="external process" if external else "embedded")
    return report


@contextmanager
def _executor_process(folder: Path, capacity: int) -> Iterator[str]:
    CertificateAuthority.open_or_create(folder / "pki")
    process = subprocess.Popen(
        [
            *(sys.executable, "-m", "botarena", "executor"),
            *("--listen", "127.0.0.1:0", "--capacity", str(capacity)),
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        # The server's data folder: its artifacts, and the authority the executor's
        # certificate comes from.
        env={**os.environ, "BOTARENA_DATA_DIR": str(folder)},
        text=True,
    )
    assert process.stdout is not None
    port = process.stdout.readline().strip().rsplit(":", 1)[1]
    try:
        yield f"127.0.0.1:{port}"
    finally:
        process.terminate()
        process.wait(30)


def _through_the_api(folder: Path, settings: Settings, matches: int) -> dict[str, Any]:
    # Where a build leaves an artifact: an executor plays nothing else.
    code_dir = folder.resolve() / "artifacts" / "bench" / "code"
    shutil.copytree(EXAMPLE, code_dir)
    artifact = Artifact(backend="local", code_dir=str(code_dir)).to_json()
    with TestClient(create_app(settings)) as client:
        factory = client.app.state.session_factory  # type: ignore[attr-defined]
        headers = new_user_headers(factory, "bench")
        agents = []
        for name in ("left", "right"):
            agent = client.post(
                "/api/v1/agents", json={"name": name, "game": "connectx"}, headers=headers
            ).json()["id"]
            sub = client.post(
                "/api/v1/submissions",
                json={"agentId": agent, "codeUrl": "https://git.example.com/bench/bot"},
                headers=headers,
            ).json()["submission"]["id"]
            with session_scope(factory) as session:
                row = session.get(Submission, sub)
                assert row is not None
                row.status, row.artifact = "success", artifact
                session.commit()
            agents.append(agent)
        # Warm-up: the executor's fork servers start with the first match.
        _wait(client, [_create(client, headers, agents)])
        started = time.perf_counter()
        ids = [_create(client, headers, agents) for _ in range(matches)]
        _wait(client, ids)
        elapsed = time.perf_counter() - started
        with session_scope(factory) as session:
            rows = session.scalars(select(Match).where(Match.id.in_(ids))).all()
            latencies = sorted(
                (r.finished_at - r.created_at).total_seconds() * 1000
                for r in rows
                if r.finished_at is not None
            )
            errors = sum(r.status != "finished" for r in rows)
    return {
        "matches": matches,
        "errors": errors,
        "platform_seconds": round(elapsed, 3),
        "platform_matches_per_second": round(matches / elapsed, 2),
        "created_to_ended_ms_p50": round(statistics.median(latencies), 1),
        "created_to_ended_ms_p99": round(latencies[int(len(latencies) * 0.99) - 1], 1),
    }


def _create(client: TestClient, headers: dict[str, str], agents: list[str]) -> str:
    answer = client.post(
        "/api/v1/matches", json={"agent1Id": agents[0], "agent2Id": agents[1]}, headers=headers
    )
    assert answer.status_code == 201, answer.text
    match_id: str = answer.json()["id"]
    return match_id


def _wait(client: TestClient, ids: list[str], seconds: float = 600) -> None:
    """Until the API lists every one of ``ids`` as ended (one listing every 200 ms)."""
    deadline = time.monotonic() + seconds
    pending = set(ids)
    while pending and time.monotonic() < deadline:
        page = client.get("/api/v1/matches", params={"limit": 200}).json()
        pending -= {m["id"] for m in page["items"] if m["status"] in ("finished", "error")}
        if pending:
            time.sleep(0.2)
    if pending:
        raise SystemExit(f"{len(pending)} matches did not end")


def _direct(matches: int, capacity: int) -> float:
    game = get_game("connectx")
    configuration = game.configure({})
    with tempfile.TemporaryDirectory() as folder:
        agents = [
            prepare_agent(EXAMPLE, Path(folder), name="p0"),
            prepare_agent(EXAMPLE, Path(folder), name="p1"),
        ]
        with LocalRunner() as runner:
            run_match(game, configuration, agents, runner, seed=0)  # warm-up
            started = time.perf_counter()
            with ThreadPoolExecutor(capacity) as pool:
                list(
                    pool.map(
                        lambda seed: run_match(game, configuration, agents, runner, seed=seed),
                        range(matches),
                    )
                )
            elapsed = time.perf_counter() - started
    return round(matches / elapsed, 2)


if __name__ == "__main__":
    main()
