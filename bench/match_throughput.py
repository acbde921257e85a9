"""Sandboxed match throughput, beside kaggle-environments and a raw pipe, in one run.

    python bench/match_throughput.py --game connectx --matches 200 --json

Plays N matches between two random agents through the ``local`` runner (sandbox included)
with ``--concurrency`` matches at a time, and prints one JSON object:

- ``matches_per_second``: finished matches per wall-clock second;
- ``turn_roundtrip_us_p50``: median time from a turn message written to its reply read;
- ``raw_pipe_roundtrip_us_p50``: the same exchange between two plain Python processes;
  measured beside the turns, not after them: once the timed matches are over, every worker
  plays ``--latency-rounds`` more matches, each followed (or, every other round, preceded)
  by as many raw pipe round trips as the match had turns, so that both see the same load;
  ``turn_vs_raw_pipe`` is the ratio of the two medians (``throughput_turn_roundtrip_us_p50``
  is the turns' median during the timed matches); with the local sandbox, a third batch
  times the same echo program run in an agent's sandbox (bubblewrap, syscall filter, its
  own CPU cgroup): ``sandboxed_pipe_roundtrip_us_p50`` and ``turn_vs_sandboxed_pipe``, the
  floor for a sandboxed agent, which the machine's load moves apart from the plain one;
- with ``--runtime docker``, the same figures of the ``docker`` runner beside the local ones
  (``docker_matches_per_second``, ``docker_turn_roundtrip_us_p50``, ``docker_vs_local``): the
  agent's folder built into an image on the engine of ``BOTARENA_DOCKER_HOST`` from
  ``BOTARENA_DOCKER_BASE_IMAGE``, one container per agent and match;
- with ``--runtime docker --docker-pool compare``, ``--rounds`` rounds instead, each one run of
  the local runner, of the docker runner starting every container with its match (``cold``)
  and of the docker runner taking them from its pool of warm containers (``warm``), in an
  order that rotates from round to round; it prints each round's figures, their medians and
  the medians of the per-round ratios (``warm_vs_local``, ``cold_vs_local``,
  ``warm_vs_cold``). ``--docker-pool paired`` plays ``--matches`` pairs of matches one at
  a time in this process, each pair one match on a runner starting its containers cold and
  one on a runner with warm ones (alternating which goes first), and prints the median match
  time of each and the median of the per-pair ratios (drift in the machine's load then falls
  on both matches of a pair alike). ``--docker-pool on|off`` runs the usual single
  comparison with the pool on or off; ``--warm`` sets the pool's size per image (the
  settings' when absent);
- ``kaggle_matches_per_second``: kaggle-environments 1.33.2 playing the same games in-process
  (no isolation), measured in the same run in its own virtual environment under
  ``.bench/``, created on first use: ``pip install --no-deps kaggle-environments==1.33.2``
  plus what its ConnectX needs. ``--no-kaggle`` skips it.

``--seccomp off`` runs the local sandbox without its syscall filter. ``--seccomp compare``
measures only the filter's cost: ``--rounds`` rounds, each one run of ``--matches`` matches
with the filter and one without, in alternating order, and prints each round's figures, their
medians and ``filter_cost`` (one minus the median of the per-round ratios on/off); with the
fork server also the CPU time per match (referee and sandboxes: ``cpu_ms_per_match``, less
sensitive to the machine's load) and ``filter_cpu_cost``. Each round also times a cheap
system call (``getppid``, 200,000 times) in a sandboxed interpreter with
and without the filter: ``syscall_ns``, the cost of one call. ``--seccomp paired`` plays
``--matches`` pairs of matches one at a time in this process, each pair one match with the
filter and one without (alternating which goes first), on two runners of their own, and
prints the median match time of each and the median of the per-pair ratios: drift in the
machine's load then falls on both matches of a pair alike.

``--compare-src DIR`` measures a change: ``--rounds`` rounds, each one run of this script on
the botarena package under ``DIR`` (say, an unpacked copy of the main branch's ``src``) and
one on this tree's ``src``, in alternating order, and prints each round's figures, their
medians and the median of the per-round throughput ratios (``ratio_new_base``).
"""

from __future__ import annotations

import argparse
import functools
import json
import multiprocessing
import os
import resource
import statistics
import subprocess
import sys
import time
from contextlib import ExitStack
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(HERE))

from _compare import compare_src  # noqa: E402
from _pipes import ECHO, RawPipe  # noqa: E402
from _seccomp import compare_filter, paired, without_syscall_filter  # noqa: E402

from botarena.builds.images import ImageBuilder  # noqa: E402
from botarena.executor.match import run_match  # noqa: E402
from botarena.executor.prepare import PreparedAgent, prepare_agent, real_python  # noqa: E402
from botarena.executor.runners.docker import DockerRunner, connect  # noqa: E402
from botarena.executor.runners.local import LocalRunner  # noqa: E402
from botarena.executor.sandbox import (  # noqa: E402
    Limits,
    SandboxSpec,
    python_runtime_binds,
    spawn,
)
from botarena.games.registry import get_game  # noqa: E402
from botarena.settings import get_settings  # noqa: E402

KAGGLE_PACKAGES = [
    "kaggle-environments==1.33.2",
    "jsonschema",
    "jsonschema-specifications",
    "referencing",
    "rpds-py",
    "attrs",
    "typing-extensions",
    "requests",
    "urllib3",
    "idna",
    "charset-normalizer",
    "certifi",
    "numpy",
]
WARM_UP = 3  # matches per worker before the clock starts
AGENTS = {"connectx": "connectx-random", "tictactoe": "tictactoe-random", "rps": "rps-random"}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--game", default="connectx", choices=sorted(AGENTS))
    parser.add_argument("--matches", type=int, default=200)
    parser.add_argument("--concurrency", type=int, default=os.cpu_count() or 2)
    parser.add_argument("--runtime", default="local", choices=["local", "docker"])
    parser.add_argument("--no-fork-server", action="store_true", help="a fresh sandbox per agent")
    parser.add_argument("--no-kaggle", action="store_true")
    parser.add_argument("--json", action="store_true")
    parser.add_argument("--seccomp", default="on", choices=["on", "off", "compare", "paired"])
    parser.add_argument("--rounds", type=int, default=5, help="rounds of the compare modes")
    parser.add_argument(
        "--latency-rounds", type=int, default=30, help="matches per worker beside the raw pipe"
    )
    parser.add_argument("--compare-src", type=Path, help="a base tree's src to compare with")
    parser.add_argument("--docker-pool", default="on", choices=["on", "off", "compare", "paired"])
    parser.add_argument("--warm", type=int, default=None, help="warm containers per image")
    args = parser.parse_args()
    if args.warm is None:
        args.warm = get_settings().docker_warm_containers
    if args.compare_src is not None:
        print(
            json.dumps(
                compare_src(args, Path(__file__), ROOT / "src"), indent=None if args.json else 2
            )
        )
        return

    report: dict[str, object] = {
        "game": args.game,
        "matches": args.matches,
        "concurrency": args.concurrency,
        "runtime": args.runtime,
        "cores": os.cpu_count(),
        "seccomp": args.seccomp,
    }
    if args.seccomp in ("compare", "paired"):
        if args.seccomp == "compare":
            report.update(compare_filter(args, functools.partial(_botarena, args, None)))
        else:
            folder = ROOT / "examples" / "agents" / AGENTS[args.game]
            report.update(paired(args, folder, ROOT / ".bench" / "cache", warm_up=WARM_UP))
        print(json.dumps(report, indent=None if args.json else 2))
        return
    if args.runtime == "docker" and args.docker_pool == "paired":
        report.update(_paired_pool(args, _build_image(args.game)))
        print(json.dumps(report, indent=None if args.json else 2))
        return
    if args.runtime == "docker" and args.docker_pool == "compare":
        report.update(_compare_pool(args, _build_image(args.game)))
        print(json.dumps(report, indent=None if args.json else 2))
        return
    report.update(_botarena(args, None, syscall_filter=args.seccomp == "on"))
    if args.runtime == "docker":
        image = _build_image(args.game)
        docker = _botarena(args, image, warm=args.warm if args.docker_pool == "on" else 0)
        report.update({f"docker_{key}": value for key, value in docker.items()})
        report["docker_vs_local"] = round(
            float(docker["matches_per_second"]) / float(report["matches_per_second"]),  # type: ignore[arg-type]
            3,
        )
    if not args.no_kaggle and args.game == "connectx":
        kaggle = _kaggle(max(20, args.matches // 4))
        report["kaggle_matches_per_second"] = round(kaggle, 2)
        report["vs_kaggle"] = round(float(report["matches_per_second"]) / kaggle, 2)  # type: ignore[arg-type]
    print(json.dumps(report, indent=None if args.json else 2))


def _build_image(game_id: str) -> str:
    """The example agent as an image, with the engine and base image of the settings."""
    settings = get_settings()
    client = connect(settings.docker_host)
    builder = ImageBuilder(
        client, settings.docker_base_image, network=settings.docker_build_network
    )
    folder = ROOT / "examples" / "agents" / AGENTS[game_id]
    return builder.build(
        folder, f"botarena-bench/{AGENTS[game_id]}:latest", lambda _: None
    ).reference


def _paired_pool(args: argparse.Namespace, image: str) -> dict[str, object]:
    """Pairs of matches, one cold and one warm, one at a time in this process."""
    settings = get_settings()
    game = get_game(args.game)
    configuration = game.configure({})
    agents = [PreparedAgent.from_image("p0", image), PreparedAgent.from_image("p1", image)]
    client = connect(settings.docker_host)
    times: dict[str, list[float]] = {"cold": [], "warm": []}
    ratios: list[float] = []
    with (
        DockerRunner(client, Limits(), runtime=settings.docker_runtime) as cold,
        DockerRunner(
            client, Limits(), runtime=settings.docker_runtime, warm_per_image=args.warm
        ) as warm,
    ):
        runners = {"cold": cold, "warm": warm}
        for seed in range(WARM_UP):
            for runner in runners.values():
                run_match(game, configuration, agents, runner, seed=seed)
        for index in range(args.matches):
            pair: dict[str, float] = {}
            for kind in ("cold", "warm") if index % 2 == 0 else ("warm", "cold"):
                if kind == "warm" and warm.pool is not None:
                    warm.pool.warm(image, None, timeout=60)  # as after a pause between matches
                started = time.perf_counter()
                result = run_match(game, configuration, agents, runners[kind], seed=index)
                pair[kind] = time.perf_counter() - started
                if result.status.value != "finished":
                    raise SystemExit(f"a {kind} match failed: {result.error}")
                times[kind].append(pair[kind])
            ratios.append(pair["cold"] / pair["warm"])
        hits = warm.pool.hits if warm.pool is not None else 0
    client.close()
    return {
        "docker_pool": "paired",
        "pairs": args.matches,
        "cold_match_ms_p50": round(statistics.median(times["cold"]) * 1000, 1),
        "warm_match_ms_p50": round(statistics.median(times["warm"]) * 1000, 1),
        "cold_over_warm_time_p50": round(statistics.median(ratios), 3),
        "warm_hits": hits,
    }


def _compare_pool(args: argparse.Namespace, image: str) -> dict[str, object]:
    """Rounds of local, cold docker and warm docker runs, their order rotating per round."""
    kinds = ["local", "cold", "warm"]
    rounds: list[dict[str, float]] = []
    for index in range(args.rounds):
        figures: dict[str, float] = {}
        for kind in kinds[index % 3 :] + kinds[: index % 3]:
            run = (
                _botarena(args, None)
                if kind == "local"
                else _botarena(args, image, warm=args.warm if kind == "warm" else 0)
            )
            if run["errors"]:
                raise SystemExit(f"{kind} run had {run['errors']} failed matches: {run}")
            figures[kind] = float(run["matches_per_second"])  # type: ignore[arg-type]
            figures[f"{kind}_turn_us"] = float(run["turn_roundtrip_us_p50"])  # type: ignore[arg-type]
        figures["warm_vs_local"] = figures["warm"] / figures["local"]
        figures["cold_vs_local"] = figures["cold"] / figures["local"]
        figures["warm_vs_cold"] = figures["warm"] / figures["cold"]
        rounds.append({key: round(value, 3) for key, value in figures.items()})
        print(json.dumps(rounds[-1]), file=sys.stderr, flush=True)
    medians = {key: round(statistics.median(r[key] for r in rounds), 3) for key in rounds[0]}
    return {
        "docker_pool": "compare",
        "warm_per_image": args.warm,
        "rounds": rounds,
        "median": medians,
    }


def _botarena(
    args: argparse.Namespace,
    image: str | None,
    *,
    syscall_filter: bool = True,
    warm: int = 0,
) -> dict[str, object]:
    """Matches across ``concurrency`` worker processes, as separate executors would run them;
    in containers of ``image`` when one is given (``warm`` of them per image started ahead
    by each worker's runner), else in the local sandbox."""
    context = multiprocessing.get_context("spawn")
    shares = [args.matches // args.concurrency] * args.concurrency
    shares[0] += args.matches - sum(shares)
    ready = context.Barrier(args.concurrency + 1)
    with context.Pool(args.concurrency, initializer=_keep_barrier, initargs=(ready,)) as pool:
        pending = [
            pool.apply_async(
                _worker,
                (
                    args.game,
                    share,
                    not args.no_fork_server,
                    index,
                    image,
                    syscall_filter,
                    args.latency_rounds,
                    warm,
                ),
            )
            for index, share in enumerate(shares)
        ]
        ready.wait()  # every worker has warmed up its runner
        started = time.perf_counter()
        ready.wait()  # every worker has played its share
        elapsed = time.perf_counter() - started
        ready.wait()  # the turns beside the raw pipe, every worker at once
        results = [p.get(timeout=600) for p in pending]
    replies = [t for result in results for t in result["replies"]]
    report: dict[str, object] = {
        "isolation": results[0]["isolation"],
        "fork_server": not args.no_fork_server,
        "seconds": round(elapsed, 3),
        "errors": sum(int(result["errors"]) for result in results),
        "matches_per_second": round(args.matches / elapsed, 2),
        "turns": len(replies),
        "throughput_turn_roundtrip_us_p50": round(statistics.median(replies) * 1e6, 1),
    }
    turns = [t for result in results for t in result["latency_replies"]]
    raw = [t for result in results for t in result["raw_replies"]]
    if turns and raw:
        report["turn_roundtrip_us_p50"] = round(statistics.median(turns) * 1e6, 1)
        report["raw_pipe_roundtrip_us_p50"] = round(statistics.median(raw) * 1e6, 1)
        report["turn_vs_raw_pipe"] = round(statistics.median(turns) / statistics.median(raw), 2)
        sandboxed = [t for result in results for t in result["sandboxed_replies"]]
        if sandboxed:
            report["sandboxed_pipe_roundtrip_us_p50"] = round(statistics.median(sandboxed) * 1e6, 1)
            report["turn_vs_sandboxed_pipe"] = round(
                statistics.median(turns) / statistics.median(sandboxed), 2
            )
    else:
        report["turn_roundtrip_us_p50"] = report["throughput_turn_roundtrip_us_p50"]
    if image is None and not args.no_fork_server:
        # Referee and sandboxes alike, less sensitive to the machine's load than the rate.
        # Only with fork servers: a fresh sandbox's program is reaped by bubblewrap's own
        # init, whose times never reach us.
        cpu = sum(float(result["cpu_seconds"]) for result in results)
        report["cpu_ms_per_match"] = round(cpu / args.matches * 1000, 3)
    return report


_BARRIER: Any = None


def _keep_barrier(barrier: Any) -> None:
    # A barrier reaches pool workers only when handed over as they start.
    global _BARRIER
    _BARRIER = barrier


def _worker(
    game_id: str,
    matches: int,
    fork_server: bool,
    index: int,
    image: str | None,
    syscall_filter: bool = True,
    latency_rounds: int = 0,
    warm: int = 0,
) -> dict[str, Any]:
    if not syscall_filter:
        without_syscall_filter()
    game = get_game(game_id)
    configuration = game.configure({})
    cache = ROOT / ".bench" / "cache"
    folder = ROOT / "examples" / "agents" / AGENTS[game_id]
    agents = [prepare_agent(folder, cache, name="p0"), prepare_agent(folder, cache, name="p1")]
    if image is not None:
        agents = [PreparedAgent.from_image(agent.name, image) for agent in agents]
    replies: list[float] = []
    errors = 0
    with ExitStack() as stack:
        runner: Any
        if image is None:
            runner = stack.enter_context(LocalRunner(Limits(), fork_server=fork_server))
        else:
            client = connect(get_settings().docker_host)
            stack.callback(client.close)
            runner = stack.enter_context(
                DockerRunner(
                    client,
                    Limits(),
                    runtime=get_settings().docker_runtime,
                    warm_per_image=warm,
                    warm_total=max(warm, get_settings().docker_warm_containers_max),
                )
            )
        for seed in range(WARM_UP):  # start the fork servers, fill the caches
            run_match(game, configuration, agents, runner, seed=seed)
        if image is not None and runner.pool is not None:
            runner.pool.warm(image, None, timeout=60)
        _BARRIER.wait()
        cpu_before = _cpu_seconds()
        for seed in range(matches):
            result = run_match(game, configuration, agents, runner, seed=index * 100000 + seed)
            errors += result.status.value != "finished"
            replies.extend(result.reply_seconds)
        isolation = runner.isolation
    # Once the runner is closed every sandbox, fork servers included, has been reaped, so
    # the children's figures hold all of them (the fork servers' start-up included).
    cpu = _cpu_seconds() - cpu_before
    _BARRIER.wait()
    latency: tuple[list[float], list[float], list[float]] = ([], [], [])
    if image is None and latency_rounds > 0:
        with LocalRunner(Limits(), fork_server=fork_server) as runner:
            for seed in range(WARM_UP):
                run_match(game, configuration, agents, runner, seed=seed)
            _BARRIER.wait()
            latency = _beside_raw_pipe(game, configuration, agents, runner, index, latency_rounds)
    else:
        _BARRIER.wait()
    return {
        "replies": replies,
        "errors": errors,
        "isolation": isolation,
        "cpu_seconds": cpu,
        "latency_replies": latency[0],
        "raw_replies": latency[1],
        "sandboxed_replies": latency[2],
    }


def _beside_raw_pipe(
    game: Any,
    configuration: dict[str, Any],
    agents: list[PreparedAgent],
    runner: Any,
    index: int,
    rounds: int,
) -> tuple[list[float], list[float], list[float]]:
    """Turn round trips, raw pipe round trips and sandboxed pipe round trips in alternating
    batches: one match, then as many round trips of each echo as it had turns (every other
    round the echoes first)."""
    turns: list[float] = []
    raw: list[float] = []
    sandboxed: list[float] = []
    pipes = [RawPipe()]
    try:
        if runner.isolation.startswith("bubblewrap"):
            pipes.append(RawPipe(_sandboxed_echo(runner, index)))
        for pipe in pipes:
            pipe.roundtrips(50)  # warm the echo processes up
        for round_index in range(rounds):
            seed = 10_000_000 + index * 100_000 + round_index
            batch = len(turns) // round_index if round_index else 20
            if round_index % 2 == 1:
                raw.extend(pipes[0].roundtrips(batch))
                if len(pipes) > 1:
                    sandboxed.extend(pipes[1].roundtrips(batch))
            played = run_match(game, configuration, agents, runner, seed=seed).reply_seconds
            turns.extend(played)
            if round_index % 2 == 0:
                raw.extend(pipes[0].roundtrips(len(played)))
                if len(pipes) > 1:
                    sandboxed.extend(pipes[1].roundtrips(len(played)))
    finally:
        for pipe in pipes:
            pipe.close()
    return turns, raw, sandboxed


def _sandboxed_echo(runner: Any, index: int) -> Any:
    """The raw pipe's echo program in a sandbox as an agent's: same limits, same cgroups."""
    spec = SandboxSpec(command=[str(real_python()), "-c", ECHO], ro_binds=python_runtime_binds())
    return spawn(
        spec, runner.limits, name=f"bench-echo-{os.getpid()}-{index}", driver=runner._driver
    )


def _cpu_seconds() -> float:
    """User and system CPU time of this process and of every child it has reaped."""
    usages = [
        resource.getrusage(resource.RUSAGE_SELF),
        resource.getrusage(resource.RUSAGE_CHILDREN),
    ]
    return sum(usage.ru_utime + usage.ru_stime for usage in usages)


def _kaggle(games: int) -> float:
    venv = ROOT / ".bench" / "kaggle-venv"
    python = venv / "bin" / "python"
    if not python.exists():
        subprocess.run([str(real_python()), "-m", "venv", "--without-pip", str(venv)], check=True)
        subprocess.run(
            [
                str(real_python()),
                "-m",
                "pip",
                "--python",
                str(python),
                "install",
                "--quiet",
                "--no-deps",
                *KAGGLE_PACKAGES,
            ],
            check=True,
        )
    done = subprocess.run(
        [str(python), str(HERE / "_kaggle.py"), str(games)],
        capture_output=True,
        text=True,
        check=True,
    )
    return float(json.loads(done.stdout.strip().splitlines()[-1])["games_per_second"])


if __name__ == "__main__":
    main()
