"""Matches through the whole platform: the API, the queue in the database, the dispatcher and
the executor over gRPC, beside the same matches played directly, interleaved in one run.

    python bench/platform_throughput.py --matches 100 --runs 3 --json
    python bench/platform_throughput.py --matches 100 --runs 3 --json --external
    python bench/platform_throughput.py --src OTHER/src ...   # another checkout's platform

Each run measures both paths one right after the other (the platform first in odd runs, the
direct path first in even ones), so both see the same load on a shared machine; the share of
the direct rate is computed per run. The platform: on SQLite in a temporary data folder,
``botarena serve`` in a process of its own (the code of ``--src``, this checkout's by
default) with its embedded executor, or dispatching to a ``botarena executor`` process
(``--external``, the same code), ``--capacity`` matches at once, the local runner with its
fork servers. This process is only the client: its HTTP requests cost the server nothing
but serving them. Two agents of the connectx example are registered with a built artifact
each; ``--matches`` matches are created through ``POST /api/v1/matches`` at once; the
platform's time runs from the first request to the last result recorded (the newest
``finished_at``; the bench waits on the database, which costs the server nothing, then checks
through the API that every match is listed ended). The direct path: the same number of
matches played with ``run_match`` on one runner, ``--capacity`` at a time, no API, database
or gRPC. It prints one JSON object:

- ``runs``: per run, ``platform_matches_per_second``, ``direct_matches_per_second``,
  ``platform_vs_direct`` (the share of the direct rate that survives the platform's path),
  ``created_to_ended_ms_p50`` / ``_p99`` and ``errors``;
- ``platform_cpu_ms_per_match`` / ``direct_cpu_ms_per_match``: the CPU time of the Python
  processes per match (the server and the executor process, read from ``/proc``; the direct
  path's one process),
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

import httpx
from sqlalchemy import func, select

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "src"))

from _platform import built_agents, executor_process  # noqa: E402
from _serving import cli, listening_pid, serving  # noqa: E402

from botarena.builds.backends.base import Artifact  # noqa: E402
from botarena.clock import utcnow  # noqa: E402
from botarena.db.engine import (  # noqa: E402
    SessionFactory,
    build_engine,
    build_session_factory,
    session_scope,
)
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
    parser.add_argument(
        "--src",
        default=str(ROOT / "src"),
        help="the platform's code (server and executor): another checkout's src to compare",
    )
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
        report = _platform(Path(folder), args)
    if direct is None:
        direct = _direct(args.matches, args.capacity)
    rate, cpu = direct
    report["direct_matches_per_second"] = rate
    report["platform_vs_direct"] = round(report["platform_matches_per_second"] / rate, 3)
    report["direct_cpu_ms_per_match"] = cpu
    return report


def _platform(folder: Path, args: argparse.Namespace) -> dict[str, Any]:
    src = str(Path(args.src).resolve())
    env = {k: v for k, v in os.environ.items() if not k.startswith("BOTARENA_")}
    env |= {
        "PYTHONPATH": src,
        "BOTARENA_DATA_DIR": str(folder),
        "BOTARENA_BUILDS_ENABLED": "false",
        "BOTARENA_MATCHES_ENABLED": "true",
        "BOTARENA_LADDER_ENABLED": "false",
        "BOTARENA_SCRIMMAGE_QUOTA": "1000000",  # the bench's one user makes every match
        "BOTARENA_EXECUTOR_CAPACITY": str(args.capacity),
        "BOTARENA_LOG_LEVEL": "WARNING",
        "BOTARENA_LOG_FORMAT": "json",
    }
    with ExitStack() as stack:
        executor_pid = None
        if args.external:
            address, executor_pid = stack.enter_context(
                executor_process(folder, args.capacity, env=env)
            )
            env["BOTARENA_EXECUTORS"] = address
        token = cli(env, "user", "create", "bench").strip().splitlines()[-1]
        command = [sys.executable, "-m", "botarena", "serve"]
        url = stack.enter_context(serving(command, env, folder / "serve.log"))
        pids = [listening_pid(url)] + ([executor_pid] if executor_pid else [])
        client = stack.enter_context(httpx.Client(base_url=url, timeout=60))
        settings = Settings(_env_file=None, data_dir=folder)  # type: ignore[call-arg]
        engine = build_engine(settings.resolved_database_url)
        stack.callback(engine.dispose)
        factory = build_session_factory(engine)
        return _through_the_api(folder, client, factory, token, args.matches, pids)


def _through_the_api(
    folder: Path,
    client: httpx.Client,
    factory: SessionFactory,
    token: str,
    matches: int,
    pids: list[int],
) -> dict[str, Any]:
    # Where a build leaves an artifact: an executor plays nothing else.
    code_dir = folder.resolve() / "artifacts" / "bench" / "code"
    shutil.copytree(EXAMPLE, code_dir)
    artifact = Artifact(backend="local", code_dir=str(code_dir)).to_json()
    headers = {"Authorization": f"Bearer {token}"}
    agents = built_agents(client, factory, headers, artifact)
    # Warm-up: the executor's fork servers start with the first match.
    _wait(client, factory, [_create(client, headers, agents)])
    started = _naive(utcnow())
    cpu_before = _cpu_seconds(pids)
    ids = [_create(client, headers, agents) for _ in range(matches)]
    _wait(client, factory, ids, pids=pids)
    cpu = _cpu_seconds(pids) - cpu_before
    with session_scope(factory) as session:
        rows = session.scalars(select(Match).where(Match.id.in_(ids))).all()
        ended = [r for r in rows if r.finished_at is not None]
        latencies = sorted((r.finished_at - r.created_at).total_seconds() * 1000 for r in ended)
        last = max(_naive(r.finished_at) for r in ended)
        errors = sum(r.status != "finished" for r in rows)
    _check_listed(client, ids)
    elapsed = (last - started).total_seconds()
    return {
        "errors": errors,
        "platform_seconds": round(elapsed, 3),
        "platform_matches_per_second": round(matches / elapsed, 2),
        "platform_cpu_ms_per_match": round(cpu / matches * 1000, 2),
        "created_to_ended_ms_p50": round(statistics.median(latencies), 1),
        "created_to_ended_ms_p99": round(latencies[int(len(latencies) * 0.99) - 1], 1),
    }


def _create(client: httpx.Client, headers: dict[str, str], agents: list[str]) -> str:
    answer = client.post(
        "/api/v1/matches", json={"agent1Id": agents[0], "agent2Id": agents[1]}, headers=headers
    )
    assert answer.status_code == 201, answer.text
    match_id: str = answer.json()["id"]
    return match_id


def _wait(
    client: httpx.Client,
    factory: SessionFactory,
    ids: list[str],
    seconds: float = 600,
    pids: list[int] | None = None,
) -> None:
    """Until every one of ``ids`` has ended: one count in the database every 100 ms (a
    listing through the API every 200 ms cost the server a fifth of its time)."""
    deadline = time.monotonic() + seconds
    ended = (Match.status.in_(("finished", "error")), Match.id.in_(ids))
    while time.monotonic() < deadline:
        with session_scope(factory) as session:
            if session.scalar(select(func.count()).where(*ended)) == len(ids):
                return
        time.sleep(0.1)
    raise SystemExit(f"the matches did not end within {seconds:g} s")


def _check_listed(client: httpx.Client, ids: list[str]) -> None:
    """The API must list each match ended (after the measurement: the listing costs the
    server)."""
    listed: set[str] = set()
    for offset in range(0, len(ids) + 200, 200):
        page = client.get("/api/v1/matches", params={"limit": 200, "offset": offset}).json()
        listed |= {m["id"] for m in page["items"] if m["status"] in ("finished", "error")}
    if missing := set(ids) - listed:
        raise SystemExit(f"{len(missing)} matches did not end")


def _naive(moment: datetime) -> datetime:
    """A moment in UTC without its zone (SQLite hands stored moments back without one)."""
    return moment.astimezone(UTC).replace(tzinfo=None) if moment.tzinfo else moment


def _cpu_seconds(pids: list[int]) -> float:
    """The CPU time of the server process and of the executor process, if any: the platform's
    own work (the agents' processes are not counted, on either path)."""
    used = 0.0
    for pid in pids:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
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
