"""The sandbox's syscall filter on and off, side by side: what ``match_throughput.py
--seccomp compare|paired|off`` runs (see that script's docstring)."""

from __future__ import annotations

import argparse
import dataclasses
import json
import os
import secrets
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from botarena.executor.match import run_match
from botarena.executor.prepare import PreparedAgent, prepare_agent, real_python
from botarena.executor.runners import local
from botarena.executor.runners.local import LocalRunner
from botarena.executor.sandbox import Limits, SandboxSpec, python_runtime_binds, spawn
from botarena.games.registry import get_game

# A throughput run of match_throughput.py, the filter on (True) or off.
Run = Callable[..., dict[str, object]]

# CPU time, not wall time: time the process waits for a core on a busy machine is not counted.
_SYSCALL_LOOP = """
import os, time
calls = 200_000
started = time.process_time()
for _ in range(calls):
    os.getppid()
print((time.process_time() - started) / calls * 1e9)
"""


def compare_filter(args: argparse.Namespace, run: Run) -> dict[str, object]:
    """Throughput runs with and without the filter, interleaved round by round (the order
    alternating), so that the machine's load drifts over both alike."""
    measured = ["matches_per_second", "turn_roundtrip_us_p50", "errors"]
    if not args.no_fork_server:
        measured.append("cpu_ms_per_match")
    rounds: list[dict[str, float]] = []
    for index in range(args.rounds):
        figures: dict[str, float] = {}
        for syscall_filter in (True, False) if index % 2 == 0 else (False, True):
            result = run(syscall_filter=syscall_filter)
            side = "on" if syscall_filter else "off"
            for key in measured:
                figures[f"{side}_{key}"] = float(result[key])  # type: ignore[arg-type]
            figures[f"{side}_syscall_ns"] = syscall_ns(syscall_filter=syscall_filter)
        for key, ratio in (("matches_per_second", "ratio"), ("cpu_ms_per_match", "cpu_ratio")):
            if key in measured:
                figures[f"{ratio}_on_off"] = round(figures[f"on_{key}"] / figures[f"off_{key}"], 4)
        rounds.append(figures)
        print(json.dumps({"round": index + 1, **figures}), file=sys.stderr, flush=True)

    def median(key: str) -> float:
        return round(statistics.median(r[key] for r in rounds), 4)

    report: dict[str, object] = {"fork_server": not args.no_fork_server, "rounds": rounds}
    for key in [*measured, "syscall_ns"]:
        for side in ("on", "off"):
            if key == "errors":
                report[f"{side}_errors"] = sum(r[f"{side}_errors"] for r in rounds)
            else:
                # The median over the rounds (of a median, for the round trip).
                report[f"{side}_{key.removesuffix('_p50')}_p50"] = median(f"{side}_{key}")
    report["ratio_on_off_p50"] = median("ratio_on_off")
    report["filter_cost"] = round(1 - median("ratio_on_off"), 4)
    if "cpu_ms_per_match" in measured:
        report["cpu_ratio_on_off_p50"] = median("cpu_ratio_on_off")
        report["filter_cpu_cost"] = round(median("cpu_ratio_on_off") - 1, 4)
    return report


class _FilterRunner(LocalRunner):
    """The local runner, with the syscall filter on or off for every sandbox it starts."""

    def __init__(self, syscall_filter: bool, *, fork_server: bool) -> None:
        super().__init__(Limits(), fork_server=fork_server)
        self.syscall_filter = syscall_filter

    def start(self, agent: PreparedAgent, *, name: str) -> Any:
        spec = dataclasses.replace(local.agent_spec(agent), syscall_filter=self.syscall_filter)
        if self.pool is not None and agent.is_python:
            return self.pool.start((agent.code_dir, agent.env_dir, agent.command), spec, name=name)
        unique = f"{name}-{secrets.token_hex(4)}"
        return spawn(spec, self.limits, name=unique, driver=self._driver)


def paired(
    args: argparse.Namespace, folder: Path, cache: Path, *, warm_up: int
) -> dict[str, object]:
    """``args.matches`` pairs of matches, one at a time: in each pair one match on a runner
    with the filter and one on a runner without (which goes first alternates)."""
    game = get_game(args.game)
    configuration = game.configure({})
    agents = [prepare_agent(folder, cache, name="p0"), prepare_agent(folder, cache, name="p1")]
    seconds: dict[bool, list[float]] = {True: [], False: []}
    errors = 0
    fork_server = not args.no_fork_server
    with (
        _FilterRunner(True, fork_server=fork_server) as on,
        _FilterRunner(False, fork_server=fork_server) as off,
    ):
        for seed in range(warm_up):
            for runner in (on, off):
                run_match(game, configuration, agents, runner, seed=seed)
        for seed in range(args.matches):
            for runner in (on, off) if seed % 2 == 0 else (off, on):
                started = time.perf_counter()
                result = run_match(game, configuration, agents, runner, seed=seed)
                seconds[runner.syscall_filter].append(time.perf_counter() - started)
                errors += result.status.value != "finished"
    ratios = [a / b for a, b in zip(seconds[True], seconds[False], strict=True)]
    return {
        "fork_server": fork_server,
        "pairs": args.matches,
        "errors": errors,
        "on_match_ms_p50": round(statistics.median(seconds[True]) * 1000, 3),
        "off_match_ms_p50": round(statistics.median(seconds[False]) * 1000, 3),
        "time_ratio_on_off_p50": round(statistics.median(ratios), 4),
        "filter_cost": round(statistics.median(ratios) - 1, 4),
    }


def syscall_ns(*, syscall_filter: bool) -> float:
    """CPU nanoseconds per ``getppid`` (the loop's own included) in a sandboxed interpreter."""
    spec = SandboxSpec(
        command=[str(real_python()), "-c", _SYSCALL_LOOP],
        ro_binds=python_runtime_binds(),
        syscall_filter=syscall_filter,
    )
    with spawn(spec, Limits(), name=f"bench-syscalls-{os.getpid()}", driver=None) as process:
        process.stdin.close()
        output = process.stdout.read()
        process.wait(60)
    return round(float(output), 1)


def without_syscall_filter() -> None:
    """Make this process's local runners build every agent's sandbox without the filter (the
    fork servers' included: their spec is derived from the agent's)."""
    build = local.agent_spec

    def unfiltered(agent: PreparedAgent, *, sandboxed: bool = True) -> Any:
        return dataclasses.replace(build(agent, sandboxed=sandboxed), syscall_filter=False)

    local.agent_spec = unfiltered  # type: ignore[assignment]
