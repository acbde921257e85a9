"""Many concurrent clients against a real ``botarena serve``: requests/s, latency, stalls.

    python bench/api_load.py --clients 1,16,64,128 --seconds 5 --json
    python bench/api_load.py --postgres --json            # a throwaway PostgreSQL server
    python bench/api_load.py --src /path/to/other/checkout/src --json   # another version

It starts ``botarena serve`` (builds, matches and the ladder off, a temporary data folder,
SQLite unless ``--postgres`` or ``--database-url``), makes a user, an agent and a submission,
then for each endpoint (``GET /submissions/{id}/build-status`` and ``GET
/leaderboard?game=connectx``, both anonymous) and each client count, runs that many
``httpx.AsyncClient`` loops for ``--seconds`` (each with its own connection, a 30 s timeout)
and prints one JSON object: per endpoint and client count, requests per second (answered
200), p50/p99/max latency in ms, the count of each status, of 503s without ``Retry-After``
and of client timeouts (a timeout is a stall: the server answers nothing for 30 s). Each
level starts once the server answers again (``waited_for_recovery_s``).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import ssl
import statistics
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import _load_mix as mix
import httpx
from _serving import cli, serving

ROOT = Path(__file__).resolve().parent.parent
CLIENT_TIMEOUT = 30.0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clients", default="1,16,64,128", help="Client counts, comma-separated.")
    parser.add_argument("--seconds", type=float, default=5.0, help="Per endpoint and count.")
    parser.add_argument("--src", type=Path, default=ROOT / "src", help="The botarena to serve.")
    parser.add_argument("--postgres", action="store_true", help="Start a throwaway PostgreSQL.")
    parser.add_argument("--database-url", default=None)
    parser.add_argument("--env", action="append", default=[], help="NAME=VALUE for the server.")
    parser.add_argument("--endpoints", default="build-status,leaderboard")
    parser.add_argument("--json", action="store_true")
    parser.add_argument("--mix", action="store_true", help="The platform at work (see above).")
    parser.add_argument("--workers", default="1,2", help="With --mix: worker counts.")
    parser.add_argument(
        "--pace", default="0.25,1", help="With --mix: req/s per client, comma-separated."
    )
    parser.add_argument("--rounds", type=int, default=2, help="With --mix: saturation rounds.")
    parser.add_argument("--build-every", type=float, default=10.0, help="With --mix: seconds.")
    args = parser.parse_args()
    if args.mix:
        _run_mix(args)
        return
    counts = [int(part) for part in args.clients.split(",") if part.strip()]
    with _database(args.postgres, args.database_url) as url, _server(args.src, url, args.env) as s:
        report: dict[str, Any] = {
            "database": "postgresql" if url else "sqlite",
            "src": str(args.src),
            "seconds_per_level": args.seconds,
            "results": {},
        }
        paths = {
            "build-status": f"/api/v1/submissions/{s['submission']}/build-status",
            "leaderboard": "/api/v1/leaderboard?game=connectx",
        }
        for name in args.endpoints.split(","):
            url = s["url"] + paths[name]
            results: dict[str, Any] = {}
            for n in counts:
                # A level starts on a server that answers again, so one level's stall does not
                # count against the next.
                recovered = _wait_answering(url)
                results[str(n)] = asyncio.run(_level(url, n, args.seconds))
                results[str(n)]["waited_for_recovery_s"] = recovered
            report["results"][name] = results
    print(json.dumps(report, indent=None if args.json else 2))


async def _level(url: str, clients: int, seconds: float) -> dict[str, Any]:
    latencies: list[float] = []
    statuses: Counter[str] = Counter()
    bare_503 = 0
    # Made before the clock starts: a client's set-up costs the driver milliseconds of CPU.
    context = ssl.create_default_context()  # one for all: each would load the CA bundle
    pool = [httpx.AsyncClient(timeout=CLIENT_TIMEOUT, verify=context) for _ in range(clients)]
    deadline = time.perf_counter() + seconds

    async def one_client(client: httpx.AsyncClient) -> None:
        nonlocal bare_503
        async with client:
            while time.perf_counter() < deadline:
                started = time.perf_counter()
                try:
                    answer = await client.get(url)
                except httpx.TimeoutException:
                    statuses["timeout"] += 1
                    latencies.append(time.perf_counter() - started)
                    continue
                except httpx.TransportError as exc:
                    statuses[type(exc).__name__] += 1
                    await asyncio.sleep(0.05)
                    continue
                latencies.append(time.perf_counter() - started)
                statuses[str(answer.status_code)] += 1
                if answer.status_code == 503:
                    if "retry-after" not in answer.headers:
                        bare_503 += 1
                    # A polite client waits as told (bounded, so the level ends on time).
                    await asyncio.sleep(min(float(answer.headers.get("retry-after", 1)), 1.0))

    started = time.perf_counter()
    await asyncio.gather(*(one_client(client) for client in pool))
    took = time.perf_counter() - started
    ordered = sorted(latencies)
    return {
        "requests_per_second": round(statuses["200"] / took, 1),
        "p50_ms": round(statistics.median(ordered) * 1000, 1) if ordered else None,
        "p99_ms": round(ordered[int(len(ordered) * 0.99)] * 1000, 1) if ordered else None,
        "max_ms": round(ordered[-1] * 1000, 1) if ordered else None,
        "statuses": dict(statuses),
        "503_without_retry_after": bare_503,
    }


def _wait_answering(url: str, limit: float = 120.0) -> float:
    """Seconds until ``url`` answered 200 within 2 s."""
    started = time.perf_counter()
    while time.perf_counter() - started < limit:
        try:
            if httpx.get(url, timeout=2).status_code == 200:
                break
        except httpx.HTTPError:
            pass
        time.sleep(0.5)
    return round(time.perf_counter() - started, 1)


@contextmanager
def _database(postgres: bool, given: str | None) -> Iterator[str | None]:
    with _databases(postgres, given) as fresh:
        yield fresh("botarena_bench")


@contextmanager
def _databases(postgres: bool, given: str | None) -> Iterator[Callable[[str], str | None]]:
    """A maker of empty databases by name (a throwaway PostgreSQL server's), or of ``given``
    or SQLite (None: each server has its own data folder) every time."""
    if given or not postgres:
        yield lambda _name: given
        return
    sys.path.insert(0, str(ROOT / "tests"))
    from support.postgres import start_postgres

    server = start_postgres()
    try:
        yield server.create_database
    finally:
        server.stop()


@contextmanager
def _server(
    src: Path,
    database_url: str | None,
    extra: list[str],
    serve_args: tuple[str, ...] | list[str] = (),
) -> Iterator[dict[str, str]]:
    with tempfile.TemporaryDirectory(prefix="botarena-load-") as folder:
        env = {k: v for k, v in os.environ.items() if not k.startswith("BOTARENA_")}
        env |= {
            "PYTHONPATH": str(src.resolve()),
            "BOTARENA_DATA_DIR": f"{folder}/data",
            "BOTARENA_BUILDS_ENABLED": "false",
            "BOTARENA_MATCHES_ENABLED": "false",
            "BOTARENA_LADDER_ENABLED": "false",
            "BOTARENA_LOG_LEVEL": "WARNING",
            "BOTARENA_LOG_FORMAT": "json",
        }
        if database_url:
            env["BOTARENA_DATABASE_URL"] = database_url
        env |= dict(item.split("=", 1) for item in extra)
        token = cli(env, "user", "create", "loaduser").strip().splitlines()[-1]
        command = [sys.executable, "-m", "botarena", "serve", *serve_args]
        # Worker processes start slowly on a busy machine: each imports the whole server.
        with serving(command, env, Path(folder) / "serve.log", ready=180) as url:
            if serve_args:
                yield {"url": url, "token": token}
            else:
                yield {"url": url, "submission": _submission(url, token)}


def _run_mix(args: argparse.Namespace) -> None:
    clients = int(args.clients.split(",")[-1]) if "," in args.clients else int(args.clients)
    with _databases(args.postgres, args.database_url) as fresh:
        report: dict[str, Any] = {
            "database": "postgresql" if args.postgres or args.database_url else "sqlite",
            "clients": clients,
            "seconds_per_level": args.seconds,
            "pace_per_client": args.pace.split(","),
            "weights": mix.WEIGHTS,
            "results": {},
        }
        for workers in [int(part) for part in args.workers.split(",") if part.strip()]:
            url = fresh(f"botarena_mix_{workers}")
            if url is None and workers > 1:
                report["results"][str(workers)] = "refused on SQLite"
                continue
            report["results"][str(workers)] = _mix_for(args, url, workers, clients)
            # As it comes, on stderr: a later failure does not lose it.
            print(json.dumps({workers: report["results"][str(workers)]}), file=sys.stderr)
    print(json.dumps(report, indent=None if args.json else 2))


def _mix_for(
    args: argparse.Namespace, url: str | None, workers: int, clients: int
) -> dict[str, Any]:
    extra = [
        "BOTARENA_BUILDS_ENABLED=true",
        "BOTARENA_MATCHES_ENABLED=true",
        "BOTARENA_LADDER_ENABLED=true",
        "BOTARENA_LADDER_INTERVAL=1",
        # One user creates every match here; the quota is for people (50 a day by default).
        "BOTARENA_SCRIMMAGE_QUOTA=1000000",
        *args.env,
    ]
    serve_args = ["--demo", "--workers", str(workers)]
    with (
        _server(args.src, url, extra, serve_args) as served,
        tempfile.TemporaryDirectory(prefix="botarena-hello-") as folder,
        serving(
            [sys.executable, str(ROOT / "bench" / "_hello.py"), "--workers", str(workers)],
            {**os.environ, "PYTHONPATH": str(ROOT / "bench")},
            Path(folder) / "hello.log",
            ready=180,
        ) as bare_url,
    ):
        target = mix.prepare_work(served["url"], served["token"])
        bare = mix.Target(bare_url)
        seconds = args.seconds
        result: dict[str, Any] = {"rounds": []}
        with mix.builds_flowing(served["url"], served["token"], args.build_every) as built:
            before = mix.work_done(served["url"])
            for _ in range(args.rounds):
                result["rounds"].append(
                    {
                        "build-status": asyncio.run(
                            mix.level(target, {"build-status": 1}, clients, seconds, None)
                        )["all"],
                        "bare": asyncio.run(mix.level(bare, {"hello": 1}, clients, seconds, None))[
                            "all"
                        ],
                    }
                )
            result["mix_closed"] = asyncio.run(
                mix.level(target, mix.WEIGHTS, clients, seconds, None)
            )
            for pace in [float(part) for part in args.pace.split(",") if part.strip()]:
                result[f"mix_paced_{pace:g}"] = asyncio.run(
                    mix.level(target, mix.WEIGHTS, clients, seconds, pace)
                )
                result[f"bare_paced_{pace:g}"] = asyncio.run(
                    mix.level(bare, {"hello": 1}, clients, seconds, pace)
                )["all"]
            after = mix.work_done(served["url"])
        result["meanwhile"] = {
            "builds_submitted": dict(built),
            "matches_created_or_played": after["matches_total"] - before["matches_total"],
            "ladder_games": after["ladder_games_on_board"] - before["ladder_games_on_board"],
        }
        status = [r["build-status"]["requests_per_second"] for r in result["rounds"]]
        floor = [r["bare"]["requests_per_second"] for r in result["rounds"]]
        result["saturation"] = {
            "build_status_rps_median": statistics.median(status),
            "bare_rps_median": statistics.median(floor),
            "ratio": round(statistics.median(status) / statistics.median(floor), 2),
        }
        return result


def _submission(url: str, token: str) -> str:
    headers = {"Authorization": f"Bearer {token}"}
    agent = httpx.post(
        f"{url}/api/v1/agents", json={"name": "load", "game": "connectx"}, headers=headers
    )
    agent.raise_for_status()
    submitted = httpx.post(
        f"{url}/api/v1/submissions",
        json={"agentId": agent.json()["id"], "codeUrl": "https://git.example.com/a/b"},
        headers=headers,
    )
    submitted.raise_for_status()
    submission_id: str = submitted.json()["submission"]["id"]
    return submission_id


if __name__ == "__main__":
    main()
