"""Many concurrent clients against a real ``botarena serve``: requests/s, CPU, latency, stalls.

    python bench/api_load.py --clients 1,16,64,128 --seconds 5 --json
    python bench/api_load.py --postgres --json            # a throwaway PostgreSQL server
    python bench/api_load.py --src /path/to/other/checkout/src --json   # another version
    python bench/api_load.py --postgres --src A --src B --endpoints build-status,hello --rounds 3

It starts ``botarena serve`` (builds, matches and the ladder off, a temporary data folder,
SQLite unless ``--postgres`` or ``--database-url``) once per ``--src`` (each on its own
database), makes a user, an agent and, per client of the largest count, a pending submission
(``--one-submission``: one for all, as this bench did before), and beside them the bare app
(``bench/_hello.py``, endpoint ``hello``). Then ``--rounds`` times, for each client count,
for each endpoint (``GET /submissions/{id}/build-status``: each client polls its own
submission; ``GET /leaderboard?game=connectx``, both anonymous; ``hello``) and each server,
one after the other (interleaved, so the machine's load falls on all alike), it runs that many
``httpx.AsyncClient`` loops for ``--seconds`` (each with its own connection, a 30 s timeout).
It prints one JSON object: per server, endpoint and client count, per round requests per
second (answered 200), ``cpu_ms_per_request`` (the server process's user + system CPU time
over the level, from ``/proc``, divided by the requests it answered: robust to a shared
machine, where requests/s are not), p50/p99/max latency in ms, the count of each status, of
503s without ``Retry-After`` and of client timeouts (a timeout is a stall: the server answers
nothing for 30 s); then the medians over rounds, and each endpoint's medians against the
bare app's (``vs_hello``). Each level starts once the server answers again
(``waited_for_recovery_s``).
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
from contextlib import ExitStack, contextmanager
from pathlib import Path
from typing import Any

import _load_mix as mix
import httpx
from _serving import cli, cpu_seconds, served_process, serving

ROOT = Path(__file__).resolve().parent.parent
CLIENT_TIMEOUT = 30.0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clients", default="1,16,64,128", help="Client counts, comma-separated.")
    parser.add_argument("--seconds", type=float, default=5.0, help="Per endpoint and count.")
    parser.add_argument(
        "--src",
        type=Path,
        action="append",
        default=None,
        help="The botarena to serve (repeat to compare versions, interleaved; default ours).",
    )
    parser.add_argument(
        "--one-submission",
        action="store_true",
        help="Every client polls the same submission (as this bench did before).",
    )
    parser.add_argument("--postgres", action="store_true", help="Start a throwaway PostgreSQL.")
    parser.add_argument("--database-url", default=None)
    parser.add_argument("--env", action="append", default=[], help="NAME=VALUE for the server.")
    parser.add_argument("--endpoints", default="build-status,leaderboard,hello")
    parser.add_argument("--json", action="store_true")
    parser.add_argument("--mix", action="store_true", help="The platform at work (see above).")
    parser.add_argument("--workers", default="1,2", help="With --mix: worker counts.")
    parser.add_argument(
        "--pace", default="0.25,1", help="With --mix: req/s per client, comma-separated."
    )
    parser.add_argument("--rounds", type=int, default=2, help="Rounds (--mix: saturation ones).")
    parser.add_argument("--build-every", type=float, default=10.0, help="With --mix: seconds.")
    args = parser.parse_args()
    if args.mix:
        _run_mix(args)
        return
    counts = [int(part) for part in args.clients.split(",") if part.strip()]
    sources = args.src or [ROOT / "src"]
    names = [name for name in args.endpoints.split(",") if name]
    with ExitStack() as stack:
        fresh = stack.enter_context(_databases(args.postgres, args.database_url))
        servers: dict[str, dict[str, Any]] = {}
        for index, src in enumerate(sources):
            url = fresh(f"botarena_bench_{index}")
            submissions = 1 if args.one_submission else max(counts)
            servers[str(src)] = stack.enter_context(_server(src, url, args.env, (), submissions))
        if "hello" in names:
            folder = stack.enter_context(tempfile.TemporaryDirectory(prefix="botarena-hello-"))
            bare_url, bare = stack.enter_context(
                served_process(
                    [sys.executable, str(ROOT / "bench" / "_hello.py")],
                    {**os.environ, "PYTHONPATH": str(ROOT / "bench")},
                    Path(folder) / "hello.log",
                )
            )
        report: dict[str, Any] = {
            "database": "postgresql" if args.postgres or args.database_url else "sqlite",
            "submissions": "one for all" if args.one_submission else "one per client",
            "seconds_per_level": args.seconds,
            "load_average_before": os.getloadavg(),
            "results": {},
        }
        levels: dict[tuple[str, str, int], list[dict[str, Any]]] = {}
        for _ in range(args.rounds):
            for n in counts:
                for name in names:
                    targets = (
                        {"hello": (bare_url, bare.pid, ["/hello"])}
                        if name == "hello"
                        else {
                            src: (s["url"], s["pid"], _paths(name, s["submissions"]))
                            for src, s in servers.items()
                        }
                    )
                    for label, (base, pid, paths) in targets.items():
                        # A level starts on a server that answers again, so one level's stall
                        # does not count against the next.
                        recovered = _wait_answering(base + paths[0])
                        cpu = cpu_seconds(pid)
                        level = asyncio.run(_level([base + p for p in paths], n, args.seconds))
                        level["cpu_ms_per_request"] = _per_request(cpu_seconds(pid) - cpu, level)
                        level["waited_for_recovery_s"] = recovered
                        levels.setdefault((label, name, n), []).append(level)
        report["load_average_after"] = os.getloadavg()
        report["results"] = _summarise(levels)
    print(json.dumps(report, indent=None if args.json else 2))


def _paths(name: str, submissions: list[str]) -> list[str]:
    if name == "build-status":
        return [f"/api/v1/submissions/{sub}/build-status" for sub in submissions]
    if name == "leaderboard":
        return ["/api/v1/leaderboard?game=connectx"]
    raise ValueError(name)


def _per_request(cpu: float, level: dict[str, Any]) -> float | None:
    answered = sum(n for status, n in level["statuses"].items() if status.isdigit())
    return round(cpu * 1000 / answered, 3) if answered else None


def _summarise(levels: dict[tuple[str, str, int], list[dict[str, Any]]]) -> dict[str, Any]:
    """Per server, endpoint and client count: the rounds and their medians; and each one's
    medians over the bare app's at the same client count."""
    out: dict[str, Any] = {}
    for (label, name, n), rounds in levels.items():
        rps = statistics.median(r["requests_per_second"] for r in rounds)
        cpus = [r["cpu_ms_per_request"] for r in rounds if r["cpu_ms_per_request"] is not None]
        entry: dict[str, Any] = {
            "requests_per_second_median": rps,
            "cpu_ms_per_request_median": round(statistics.median(cpus), 3) if cpus else None,
            "rounds": rounds,
        }
        bare = levels.get(("hello", "hello", n))
        if bare and label != "hello":
            bare_rps = statistics.median(r["requests_per_second"] for r in bare)
            bare_cpu = statistics.median(r["cpu_ms_per_request"] or 0 for r in bare)
            entry["vs_hello"] = {
                "requests_per_second": round(rps / bare_rps, 3) if bare_rps else None,
                "cpu_per_request": round(entry["cpu_ms_per_request_median"] / bare_cpu, 2)
                if bare_cpu and cpus
                else None,
            }
        out.setdefault(label, {}).setdefault(name, {})[str(n)] = entry
    return out


async def _level(urls: list[str], clients: int, seconds: float) -> dict[str, Any]:
    """``clients`` closed loops for ``seconds``; client ``i`` asks for ``urls[i % len]``."""
    latencies: list[float] = []
    statuses: Counter[str] = Counter()
    bare_503 = 0
    # Made before the clock starts: a client's set-up costs the driver milliseconds of CPU.
    context = ssl.create_default_context()  # one for all: each would load the CA bundle
    pool = [httpx.AsyncClient(timeout=CLIENT_TIMEOUT, verify=context) for _ in range(clients)]
    deadline = time.perf_counter() + seconds

    async def one_client(index: int, client: httpx.AsyncClient) -> None:
        nonlocal bare_503
        url = urls[index % len(urls)]
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
    await asyncio.gather(*(one_client(i, client) for i, client in enumerate(pool)))
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
    submissions: int = 1,
) -> Iterator[dict[str, Any]]:
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
        with served_process(command, env, Path(folder) / "serve.log", ready=180) as (url, server):
            if serve_args:
                yield {"url": url, "token": token, "pid": server.pid}
            else:
                made = _submissions(url, token, submissions)
                yield {"url": url, "pid": server.pid, "submissions": made}


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
        _server((args.src or [ROOT / "src"])[0], url, extra, serve_args) as served,
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


def _submissions(url: str, token: str, count: int) -> list[str]:
    """``count`` pending submissions of a new agent (each waits in the build queue)."""
    headers = {"Authorization": f"Bearer {token}"}
    agent = httpx.post(
        f"{url}/api/v1/agents", json={"name": "load", "game": "connectx"}, headers=headers
    )
    agent.raise_for_status()
    made = []
    for _ in range(count):
        submitted = httpx.post(
            f"{url}/api/v1/submissions",
            json={"agentId": agent.json()["id"], "codeUrl": "https://git.example.com/a/b"},
            headers=headers,
        )
        submitted.raise_for_status()
        made.append(submitted.json()["submission"]["id"])
    return made


if __name__ == "__main__":
    main()
