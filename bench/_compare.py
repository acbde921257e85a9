"""One tree's botarena against another's, interleaved: what ``match_throughput.py
--compare-src DIR`` runs (see that script's docstring)."""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
from pathlib import Path

MEASURED = (
    "matches_per_second",
    "cpu_ms_per_match",
    "turn_roundtrip_us_p50",
    "raw_pipe_roundtrip_us_p50",
    "turn_vs_raw_pipe",
    "sandboxed_pipe_roundtrip_us_p50",
    "turn_vs_sandboxed_pipe",
)


def compare_src(args: argparse.Namespace, script: Path, new_src: Path) -> dict[str, object]:
    """``--rounds`` rounds of one run on ``args.compare_src`` (base) and one on ``new_src``
    (new), the order alternating, so that the machine's load drifts over both alike."""
    sides = {"base": args.compare_src.resolve(), "new": new_src.resolve()}
    rounds: list[dict[str, float]] = []
    for index in range(args.rounds):
        figures: dict[str, float] = {}
        for side in ("base", "new") if index % 2 == 0 else ("new", "base"):
            result = _run(args, script, sides[side])
            for key in MEASURED:
                if key in result:
                    figures[f"{side}_{key}"] = float(result[key])
            figures[f"{side}_errors"] = float(result["errors"])
        figures["ratio_new_base"] = round(
            figures["new_matches_per_second"] / figures["base_matches_per_second"], 4
        )
        rounds.append(figures)
        print(json.dumps({"round": index + 1, **figures}), file=sys.stderr, flush=True)

    def median(key: str) -> float:
        return round(statistics.median(r[key] for r in rounds), 4)

    report: dict[str, object] = {
        "game": args.game,
        "matches": args.matches,
        "concurrency": args.concurrency,
        "base_src": str(sides["base"]),
        "rounds": rounds,
    }
    for key in MEASURED:
        for side in ("base", "new"):
            if all(f"{side}_{key}" in r for r in rounds):
                report[f"{side}_{key}"] = median(f"{side}_{key}")
    for side in ("base", "new"):
        report[f"{side}_errors"] = sum(r[f"{side}_errors"] for r in rounds)
    report["ratio_new_base_p50"] = median("ratio_new_base")
    return report


def _run(args: argparse.Namespace, script: Path, src: Path) -> dict[str, object]:
    command = [
        sys.executable,
        str(script),
        "--game",
        args.game,
        "--matches",
        str(args.matches),
        "--concurrency",
        str(args.concurrency),
        "--latency-rounds",
        str(args.latency_rounds),
        "--no-kaggle",
        "--json",
    ]
    if args.no_fork_server:
        command.append("--no-fork-server")
    environment = {**os.environ, "PYTHONPATH": str(src)}
    done = subprocess.run(command, env=environment, capture_output=True, text=True, check=True)
    result: dict[str, object] = json.loads(done.stdout.strip().splitlines()[-1])
    return result
