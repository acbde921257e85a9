"""Matches through the whole platform: the API, the queue in the database, the dispatcher and
the executor over gRPC, beside the same matches played directly, interleaved in one run.

    python bench/platform_throughput.py --matches 100 --runs 3 --json
    python bench/platform_throughput.py --matches 100 --runs 3 --json --external

Each run measures both paths one right after the other (the platform first in odd runs, the
direct path first in even ones), so both see the same load on a shared machine; the share of
the direct rate is computed per run. The platform: on SQLite in a temporary data folder, the
real app serves (in process) with its embedded executor, or dispatches to a ``botarena
executor`` process (``--external``), ``--capacity`` matches at once, the local runner with its
fork servers. Two agents of the connectx example are registered with a built artifact each;
``--matches`` matches are created through ``POST /api/v1/matches`` at once; the platform's
time runs from the first request to the last result recorded (the newest ``finished_at``;
the bench waits on the database, which costs the server nothing, then checks through the API
that every match is listed ended). The direct path: the same number of matches played with
``run_match`` on one runner, ``--capacity`` at a time, no API, database or gRPC. It prints
one JSON object:

- ``runs``: per run, ``platform_matches_per_second``, ``direct_matches_per_second``,
  ``platform_vs_direct`` (the share of the direct rate that survives the platform's path),
  ``created_to_ended_ms_p50`` / ``_p99`` and ``errors``;
- ``platform_cpu_ms_per_match`` / ``direct_cpu_ms_per_match``: the CPU time of the Python
  processes per match (the server and the executor process; the direct path's one process),
  the agents' own processes not counted: the platform's work beside the referee's, a figure
  that load on a shared machine moves far less than the rates;
- ``median``: the median of each of those over the runs.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from contextlib import ExitStack
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy import func, select

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "src"))

from _platform import built_agents, executor_process, new_user_headers  # noqa: E402

from botarena.app import create_app  # noqa: E402
from botarena.builds.backends.base import Artifact  # noqa: E402
from botarena.clock import utcnow  # noqa: E402
from botarena.db.engine import SessionFactory, session_scope  # noqa: E402
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
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    configure_logging("WARNING", "console")
    runs = [_run(args, platform_first=index % 2 == 0) for index in range(args.runs)]
    figures = [key for key, value in runs[0].items() if isinstance(value, int | float)]
    report = {
        "matches": args.matches,
        "capacity": args.capacity,
        "executor": "external process" if args.external else "embedded",
        "runs": runs,
        "median": {key: round(statistics.median(run[key] for run in runs), 3) for key in figures},
    }
    print(json.dumps(report, indent=None if args.json else 2))


def _run(args: argparse.Namespace, *, platform_first: bool) -> dict[str, Any]:
    """One run: the platform's path and the direct one, back to back."""
    direct = None
    if not platform_first:
        direct = _direct(args.matches, args.capacity)
    with tempfile.TemporaryDirectory() as folder:
        report = _platform(Path(folder), args.matches, args.capacity, args.external)
    if direct is None:
        direct = _direct(args.matches, args.capacity)
    rate, cpu = direct
    report["direct_matches_per_second"] = rate
    report["platform_vs_direct"] = round(report["platform_matches_per_second"] / rate, 3)
    report["direct_cpu_ms_per_match"] = cpu
    return report


def _platform(folder: Path, matches: int, capacity: int, external: bool) -> dict[str, Any]:
    with ExitStack() as stack:
        executors: tuple[str, ...] = ()
        executor_pid = None
        if external:
            address, executor_pid = stack.enter_context(executor_process(folder, capacity))
            executors = (address,)
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
        return _through_the_api(folder, settings, matches, executor_pid)


def _through_the_api(
    folder: Path, settings: Settings, matches: int, executor_pid: int | None
) -> dict[str, Any]:
    # Where a build leaves an artifact: an executor plays nothing else.
    code_dir = folder.resolve() / "artifacts" / "bench" / "code"
    shutil.copytree(EXAMPLE, code_dir)
    artifact = Artifact(backend="local", code_dir=str(code_dir)).to_json()
    with TestClient(create_app(settings)) as client:
        factory = client.app.state.session_factory  # type: ignore[attr-defined]
        headers = new_user_headers(factory, "bench")
        agents = built_agents(client, factory, headers, artifact)
        # Warm-up: the executor's fork servers start with the first match.
        _wait(client, factory, [_create(client, headers, agents)])
        started = _naive(utcnow())
        cpu_before = _cpu_seconds(executor_pid)
        ids = [_create(client, headers, agents) for _ in range(matches)]
        _wait(client, factory, ids)
        cpu = _cpu_seconds(executor_pid) - cpu_before
        with session_scope(factory) as session:
            rows = session.scalars(select(Match).where(Match.id.in_(ids))).all()
            ended = [r for r in rows if r.finished_at is not None]
            latencies = sorted((r.finished_at - r.created_at).total_seconds() * 1000 for r in ended)
            last = max(_naive(r.finished_at) for r in ended)
            errors = sum(r.status != "finished" for r in rows)
    elapsed = (last - started).total_seconds()
    return {
        "errors": errors,
        "platform_seconds": round(elapsed, 3),
        "platform_matches_per_second": round(matches / elapsed, 2),
        "platform_cpu_ms_per_match": round(cpu / matches * 1000, 2),
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


def _wait(
    client: TestClient, factory: SessionFactory, ids: list[str], seconds: float = 600
) -> None:
    """Until every one of ``ids`` has ended: one count in the database every 100 ms (a
    listing through the API every 200 ms cost the server a fifth of its time), then the API
    must list each one ended."""
    deadline = time.monotonic() + seconds
    ended = (Match.status.in_(("finished", "error")), Match.id.in_(ids))
    while time.monotonic() < deadline:
        with session_scope(factory) as session:
            if session.scalar(select(func.count()).where(*ended)) == len(ids):
                break
        time.sleep(0.1)
    listed: set[str] = set()
    for offset in range(0, len(ids) + 200, 200):
        page = client.get("/api/v1/matches", params={"limit": 200, "offset": offset}).json()
        listed |= {m["id"] for m in page["items"] if m["status"] in ("finished", "error")}
    if missing := set(ids) - listed:
        raise SystemExit(f"{len(missing)} matches did not end")


def _naive(moment: datetime) -> datetime:
    """A moment in UTC without its zone (SQLite hands stored moments back without one)."""
    return moment.astimezone(UTC).replace(tzinfo=None) if moment.tzinfo else moment


def _cpu_seconds(executor_pid: int | None) -> float:
    """The CPU time of this process and of the executor process, if any: the platform's own
    work (the agents' processes are not counted, on either path)."""
    used = time.process_time()
    if executor_pid is not None:
        fields = Path(f"/proc/{executor_pid}/stat").read_text().rsplit(")", 1)[1].split()
        used += (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    return used


def _direct(matches: int, capacity: int) -> tuple[float, float]:
    """Matches per second and CPU milliseconds of this process per match."""
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
            cpu_before = time.process_time()
            with ThreadPoolExecutor(capacity) as pool:
                list(
                    pool.map(
                        lambda seed: run_match(game, configuration, agents, runner, seed=seed),
                        range(matches),
                    )
                )
            elapsed = time.perf_counter() - started
            cpu = time.process_time() - cpu_before
    return round(matches / elapsed, 2), round(cpu / matches * 1000, 2)


if __name__ == "__main__":
    main()
