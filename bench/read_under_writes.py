"""Build-status reads on SQLite while writers keep the write lock busy: reading sessions as the
server has them (deferred) beside reads that take the write lock (IMMEDIATE), in one run.

    python bench/read_under_writes.py --readers 8 --writers 4 --rounds 8 --seconds 10 --json

Two real servers (uvicorn and ``create_app``, as ``botarena serve`` runs them; builds, matches
and the ladder off) share one SQLite file in a temporary data folder, WAL as configured:

- ``deferred``: the server as it is; a GET gets the reading session, whose transaction begins
  deferred and takes no lock;
- ``immediate``: the same server whose reading session factory is replaced, inside this script
  only, by the writing one, so every GET begins ``BEGIN IMMEDIATE`` and queues for the write
  lock: reads as they were before reading sessions.

An admin makes ``--submissions`` agents with a pending submission each. Rounds alternate
between the servers (``deferred`` first); in each, ``--writers`` clients change those
submissions' build priorities (``POST /submissions/{id}/priority``: an UPDATE and an audit row,
one committed transaction per request) and ``--readers`` anonymous clients read ``GET
/submissions/{id}/build-status`` (the submission, its history and its queue position) of the
same submissions in turn, for ``--seconds``; each client is an ``httpx.AsyncClient`` with its
own connection, and nothing is counted in a round's first ``--warmup`` seconds. It prints one
JSON object: per round and mode, reads and writes answered 200 per second, their p50/p99
latencies in ms (and the reads' mean), and the count of each status; per mode, the medians
over its rounds; and ``immediate_over_deferred``, each median of ``immediate`` divided by that
of ``deferred``.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import statistics
import subprocess
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path
from typing import Any

import httpx
from _serving import serving

ROOT = Path(__file__).resolve().parent.parent
MODES = ("deferred", "immediate")
CLIENT_TIMEOUT = 60.0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--readers", type=int, default=8)
    parser.add_argument("--writers", type=int, default=4)
    parser.add_argument("--rounds", type=int, default=8, help="In all, alternating modes.")
    parser.add_argument("--seconds", type=float, default=10.0, help="Per round.")
    parser.add_argument("--warmup", type=float, default=1.0, help="Not counted, per round.")
    parser.add_argument("--submissions", type=int, default=20)
    parser.add_argument("--json", action="store_true")
    parser.add_argument("--serve", choices=MODES, help=argparse.SUPPRESS)  # the servers' side
    parser.add_argument("--port", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.serve:
        _serve(args.serve, args.port)
        return
    with _servers() as (urls, token):
        headers = {"Authorization": f"Bearer {token}"}
        submissions = _submissions(urls["deferred"], headers, args.submissions)
        rounds = []
        for index in range(args.rounds):
            mode = MODES[index % 2]
            measured = asyncio.run(_round(urls[mode], headers, submissions, args))
            rounds.append({"round": index + 1, "mode": mode, **measured})
    medians = {mode: _medians([r for r in rounds if r["mode"] == mode]) for mode in MODES}
    report = {
        "database": "sqlite (WAL)",
        "readers": args.readers,
        "writers": args.writers,
        "seconds_per_round": args.seconds,
        "submissions": args.submissions,
        "medians": medians,
        "immediate_over_deferred": {
            key: _ratio(medians["immediate"][key], medians["deferred"][key])
            for key in medians["deferred"]
        },
        "rounds": rounds,
    }
    print(json.dumps(report, indent=None if args.json else 2))


async def _round(
    url: str, headers: dict[str, str], submissions: list[str], args: argparse.Namespace
) -> dict[str, Any]:
    reads: list[float] = []
    writes: list[float] = []
    statuses: dict[str, Counter[str]] = {"reads": Counter(), "writes": Counter()}
    started = time.perf_counter()
    counting_from = started + args.warmup
    deadline = counting_from + args.seconds

    async def client(kind: str, number: int) -> None:
        latencies = reads if kind == "reads" else writes
        turn = number
        async with httpx.AsyncClient(base_url=url, timeout=CLIENT_TIMEOUT) as http:
            while time.perf_counter() < deadline:
                submission = submissions[turn % len(submissions)]
                turn += 1
                began = time.perf_counter()
                try:
                    if kind == "reads":
                        answer = await http.get(f"/api/v1/submissions/{submission}/build-status")
                    else:
                        answer = await http.post(
                            f"/api/v1/submissions/{submission}/priority",
                            json={"priority": random.randint(-1000, 1000)},
                            headers=headers,
                        )
                    status = str(answer.status_code)
                except httpx.TimeoutException:
                    status = "timeout"
                if began >= counting_from:
                    statuses[kind][status] += 1
                    if status == "200":
                        latencies.append(time.perf_counter() - began)

    await asyncio.gather(
        *(client("reads", n) for n in range(args.readers)),
        *(client("writes", n) for n in range(args.writers)),
    )
    took = time.perf_counter() - counting_from
    return {
        "reads_per_second": round(len(reads) / took, 1),
        "read_mean_ms": round(statistics.fmean(reads) * 1000, 1) if reads else None,
        "read_p50_ms": _percentile_ms(reads, 0.5),
        "read_p99_ms": _percentile_ms(reads, 0.99),
        "writes_per_second": round(len(writes) / took, 1),
        "write_p50_ms": _percentile_ms(writes, 0.5),
        "write_p99_ms": _percentile_ms(writes, 0.99),
        "statuses": {kind: dict(counts) for kind, counts in statuses.items()},
    }


def _percentile_ms(values: list[float], share: float) -> float | None:
    if not values:
        return None
    ordered = sorted(values)
    if share == 0.5:
        return round(statistics.median(ordered) * 1000, 1)
    return round(ordered[min(len(ordered) - 1, int(len(ordered) * share))] * 1000, 1)


def _medians(rounds: list[dict[str, Any]]) -> dict[str, float | None]:
    keys = (
        *("reads_per_second", "read_mean_ms", "read_p50_ms", "read_p99_ms"),
        *("writes_per_second", "write_p50_ms", "write_p99_ms"),
    )
    medians: dict[str, float | None] = {}
    for key in keys:
        values = [r[key] for r in rounds if r[key] is not None]
        medians[key] = round(statistics.median(values), 1) if values else None
    return medians


def _ratio(before: float | None, after: float | None) -> float | None:
    if before is None or not after:
        return None
    return round(before / after, 2)


def _serve(mode: str, port: int) -> None:
    """One server as ``botarena serve`` runs it; ``immediate`` gives reads writing sessions."""
    sys.path.insert(0, str(ROOT / "src"))
    import uvicorn

    from botarena.app import create_app
    from botarena.logging import configure_logging
    from botarena.settings import get_settings

    settings = get_settings()
    configure_logging(settings.log_level, settings.log_format)
    app = create_app(settings)
    if mode == "immediate":
        # The "before": every GET's session begins BEGIN IMMEDIATE, as a writer's does.
        app.state.read_session_factory = app.state.session_factory
    uvicorn.run(app, host="127.0.0.1", port=port, log_config=None, access_log=False)


@contextmanager
def _servers() -> Iterator[tuple[dict[str, str], str]]:
    """Both servers on one database; their URLs by mode, and an admin's token."""
    with tempfile.TemporaryDirectory(prefix="botarena-reads-") as folder, ExitStack() as stack:
        env = {k: v for k, v in os.environ.items() if not k.startswith("BOTARENA_")}
        env |= {
            "PYTHONPATH": str(ROOT / "src"),
            "BOTARENA_DATA_DIR": f"{folder}/data",
            "BOTARENA_BUILDS_ENABLED": "false",
            "BOTARENA_MATCHES_ENABLED": "false",
            "BOTARENA_LADDER_ENABLED": "false",
            "BOTARENA_LOG_LEVEL": "WARNING",
            "BOTARENA_LOG_FORMAT": "json",
        }
        created = subprocess.run(
            [sys.executable, "-m", "botarena", "user", "create", "benchadmin", "--admin"],
            env=env,
            capture_output=True,
            text=True,
            check=True,
            stdin=subprocess.DEVNULL,
        )
        token = created.stdout.strip().splitlines()[-1]
        urls = {}
        for mode in MODES:  # one after the other: the first one migrates
            urls[mode] = stack.enter_context(_server(mode, env, Path(folder)))
        yield urls, token


@contextmanager
def _server(mode: str, env: dict[str, str], folder: Path) -> Iterator[str]:
    command = [sys.executable, __file__, "--serve", mode]
    with serving(command, env, folder / f"serve-{mode}.log") as url:
        yield url


def _submissions(url: str, headers: dict[str, str], count: int) -> list[str]:
    ids = []
    with httpx.Client(base_url=url, headers=headers, timeout=CLIENT_TIMEOUT) as http:
        for number in range(count):
            agent = http.post(
                "/api/v1/agents", json={"name": f"reads-{number}", "game": "connectx"}
            )
            agent.raise_for_status()
            submitted = http.post(
                "/api/v1/submissions",
                json={"agentId": agent.json()["id"], "codeUrl": "https://git.example.com/a/b"},
            )
            submitted.raise_for_status()
            ids.append(submitted.json()["submission"]["id"])
    return ids


if __name__ == "__main__":
    main()
