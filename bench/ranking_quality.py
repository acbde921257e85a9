"""How fast the leaderboard finds the true order: the real ladder beside random pairing with
plain Elo, on real sandboxed matches, in one run.

    python bench/ranking_quality.py --game connectx --games-per-agent 30 --json

The population is seven ConnectX agents written from one template
(``bench/agents/connectx_tier.py``) with a search depth and a chance of a random move, so that
their true order is known (weakest first): random but never completing a line of its own;
random; greedy (win, else block, else random) half the time; greedy; a two-move search
with 35% random moves; a one-move search; a two-move search. Three stages, in a temporary
data folder:

1. **Calibration.** Each pair of neighbours in that order plays ``--calibration-games``
   matches, seats alternating, with the executor's own ``run_match`` on the local runner; the
   stronger one's score rate is printed (the order is sound when every rate is at least 0.65).
2. **The ladder.** The real app serves in process on SQLite, with its builds, ladder and
   embedded executor. Each agent is registered by its own user, submitted as an archive,
   built, and activated through the API; then the ladder schedules its ranked matches as in
   production. Whenever the games played reach each checkpoint (a multiple of ``--step`` games
   per agent, up to ``--games-per-agent``), the leaderboard is read.
3. **The baseline.** The same number of matches between uniformly random pairs, played with
   ``run_match`` on the same runner, rated with plain Elo (K = 32, from 1500) in the order they
   finish; its order is read at the same checkpoints.

At each checkpoint, Kendall's tau compares each order with the true one (1: identical;
-1: reversed). It prints one JSON object.
"""

from __future__ import annotations

import argparse
import io
import json
import random
import statistics
import sys
import tarfile
import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from fastapi.testclient import TestClient

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "src"))

from _platform import new_user_headers  # noqa: E402

from botarena.app import create_app  # noqa: E402
from botarena.demo import demo_token  # noqa: E402
from botarena.executor.match import run_match  # noqa: E402
from botarena.executor.prepare import PreparedAgent, prepare_agent  # noqa: E402
from botarena.executor.runners.local import LocalRunner  # noqa: E402
from botarena.games.registry import get_game  # noqa: E402
from botarena.logging import configure_logging  # noqa: E402
from botarena.settings import Settings  # noqa: E402

TEMPLATE = ROOT / "bench" / "agents" / "connectx_tier.py"
# Weakest first: (search depth, chance of a random move); -1 never wins (see the template).
TIERS = ((-1, 1.0), (0, 1.0), (0, 0.5), (0, 0.0), (2, 0.35), (1, 0.0), (2, 0.0))
ELO_K = 32.0
ELO_START = 1500.0


@dataclass(frozen=True)
class Tier:
    name: str
    depth: int
    noise: float
    folder: Path


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--game", default="connectx", choices=["connectx"])
    parser.add_argument("--games-per-agent", type=int, default=30)
    parser.add_argument("--step", type=int, default=5, help="checkpoint every N games per agent")
    parser.add_argument("--calibration-games", type=int, default=100)
    parser.add_argument("--capacity", type=int, default=2, help="matches played at once")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--repeat", type=int, default=1, help="whole runs, seeds counting up")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    configure_logging("WARNING", "console")
    checkpoints = list(range(args.step, args.games_per_agent + 1, args.step))
    if not checkpoints or checkpoints[-1] != args.games_per_agent:
        checkpoints.append(args.games_per_agent)
    runs = []
    for index in range(args.repeat):
        runs.append(_run(args, checkpoints, args.seed + index))
        print(f"run {index + 1} of {args.repeat} done", file=sys.stderr)
    report = runs[0] if len(runs) == 1 else {"runs": runs, "summary": _summary(runs)}
    print(json.dumps(report, indent=None if args.json else 2))


def _run(args: argparse.Namespace, checkpoints: list[int], seed: int) -> dict[str, Any]:
    started = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="botarena-ranking-") as folder:
        tiers = _write_tiers(Path(folder))
        prepared = [prepare_agent(t.folder, Path(folder) / "cache", name=t.name) for t in tiers]
        calibration = _calibrate(args.game, prepared, args.calibration_games, args.capacity)
        ladder = _ladder(Path(folder), args.game, tiers, checkpoints, args.capacity)
        elo = _elo(args.game, prepared, checkpoints, args.capacity, random.Random(seed))
    return {
        "game": args.game,
        "seed": seed,
        "agents": [
            {"name": t.name, "search_depth": t.depth, "random_move_chance": t.noise} for t in tiers
        ],
        "true_order": "weakest first, as listed",
        "neighbour_win_rates": calibration,
        "neighbours_all_at_least_0_65": all(c["stronger_score_rate"] >= 0.65 for c in calibration),
        "checkpoints": [
            {"games_per_agent": k, "ladder_tau": ladder["taus"][k], "random_elo_tau": elo[k]}
            for k in checkpoints
        ],
        "ladder_final_leaderboard": ladder["board"],
        "ladder_errored_matches": ladder["errors"],
        "seconds": round(time.perf_counter() - started, 1),
    }


def _summary(runs: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Per checkpoint: the median tau of each side, and in how many runs it reached 0.9."""
    summary = []
    for index, point in enumerate(runs[0]["checkpoints"]):
        row: dict[str, Any] = {"games_per_agent": point["games_per_agent"]}
        for side in ("ladder_tau", "random_elo_tau"):
            taus = [run["checkpoints"][index][side] for run in runs]
            row[f"{side}_median"] = statistics.median(taus)
            row[f"{side}_runs_at_least_0_9"] = f"{sum(t >= 0.9 for t in taus)}/{len(taus)}"
        summary.append(row)
    return summary


def _write_tiers(folder: Path) -> list[Tier]:
    source = TEMPLATE.read_text()
    tiers = []
    for index, (depth, noise) in enumerate(TIERS):
        tier = Tier(f"tier-{index}", depth, noise, folder / "agents" / f"tier-{index}")
        tier.folder.mkdir(parents=True)
        text = source.replace("DEPTH = 0\n", f"DEPTH = {depth}\n", 1)
        text = text.replace("NOISE = 0.0\n", f"NOISE = {noise}\n", 1)
        (tier.folder / "main.py").write_text(text)
        tiers.append(tier)
    return tiers


def kendall_tau(order: list[int]) -> float:
    """Tau between ``order`` (true ranks, as listed best first) and the true order."""
    pairs = concordant = 0
    for i in range(len(order)):
        for j in range(i + 1, len(order)):
            pairs += 1
            concordant += 1 if order[i] > order[j] else -1
    return round(concordant / pairs, 3)


def _play(
    game_id: str, agents: list[PreparedAgent], pairs: list[tuple[int, int, int]], capacity: int
) -> list[tuple[int, int, float]]:
    """Play (seat 0, seat 1, seed) matches, ``capacity`` at once; (i, j, score of i) in the
    order they finished. A match that errors is played again."""
    game = get_game(game_id)
    configuration = game.configure({})
    results: list[tuple[int, int, float]] = []
    lock = threading.Lock()
    local = threading.local()
    runners: list[LocalRunner] = []

    def one(pair: tuple[int, int, int]) -> None:
        if not hasattr(local, "runner"):
            local.runner = LocalRunner()
            with lock:
                runners.append(local.runner)
        i, j, seed = pair
        for attempt in range(3):
            result = run_match(game, configuration, [agents[i], agents[j]], local.runner, seed=seed)
            if result.status.value == "finished":
                score = 0.5 if result.winner is None else float(result.winner == 0)
                with lock:
                    results.append((i, j, score))
                return
            seed += 7919 * (attempt + 1)
        raise SystemExit(f"a match between {i} and {j} could not be played")

    try:
        with ThreadPoolExecutor(capacity) as pool:
            list(pool.map(one, pairs))
    finally:
        for runner in runners:
            runner.close()
    return results


def _calibrate(
    game_id: str, agents: list[PreparedAgent], games: int, capacity: int
) -> list[dict[str, Any]]:
    pairs = [
        (i + 1, i, g) if g % 2 == 0 else (i, i + 1, g)
        for i in range(len(agents) - 1)
        for g in range(games)
    ]
    totals = [0.0] * (len(agents) - 1)
    for i, j, score in _play(game_id, agents, pairs, capacity):
        stronger_score = score if i > j else 1.0 - score
        totals[min(i, j)] += stronger_score
    return [
        {
            "stronger": f"tier-{low + 1}",
            "weaker": f"tier-{low}",
            "games": games,
            "stronger_score_rate": round(total / games, 3),
        }
        for low, total in enumerate(totals)
    ]


def _elo(
    game_id: str,
    agents: list[PreparedAgent],
    checkpoints: list[int],
    capacity: int,
    rng: random.Random,
) -> dict[int, float]:
    count = len(agents)
    total = checkpoints[-1] * count // 2
    pairs = []
    for index in range(total):
        i, j = rng.sample(range(count), 2)
        pairs.append((i, j, 10_000 + index))
    rating = [ELO_START] * count
    taus: dict[int, float] = {}
    for played, (i, j, score) in enumerate(_play(game_id, agents, pairs, capacity), start=1):
        expected = 1.0 / (1.0 + 10 ** ((rating[j] - rating[i]) / 400))
        rating[i] += ELO_K * (score - expected)
        rating[j] -= ELO_K * (score - expected)
        for k in checkpoints:
            if played == k * count // 2:
                best_first = sorted(range(count), key=lambda a: -rating[a])
                taus[k] = kendall_tau(best_first)
    return taus


def _ladder(
    folder: Path, game_id: str, tiers: list[Tier], checkpoints: list[int], capacity: int
) -> dict[str, Any]:
    settings = Settings(
        _env_file=None,  # type: ignore[call-arg]
        data_dir=folder / "platform",
        builds_enabled=True,
        build_backend="local",
        matches_enabled=True,
        executor_capacity=capacity,
        ladder_enabled=True,
        ladder_concurrency=capacity,
        ladder_rate=10_000,
        ladder_interval=0.1,
        log_level="WARNING",
    )
    with TestClient(create_app(settings)) as client:
        factory = client.app.state.session_factory  # type: ignore[attr-defined]
        # The organiser: the demo's admin, made on first use.
        admin = {"Authorization": f"Bearer {demo_token(factory)}"}
        client.post("/api/v1/ladder/pause", headers=admin)
        rank_of: dict[str, int] = {}
        for index, tier in enumerate(tiers):
            agent_id = _enter(client, factory, tier)
            rank_of[agent_id] = index
        client.post("/api/v1/ladder/resume", headers=admin)
        taus: dict[int, float] = {}
        board: list[dict[str, Any]] = []
        deadline = time.monotonic() + 3600
        for k in checkpoints:
            while time.monotonic() < deadline:
                board = client.get("/api/v1/leaderboard", params={"game": game_id}).json()["items"]
                if sum(row["games"] for row in board) >= k * len(tiers):
                    break
                time.sleep(0.05)
            else:
                raise SystemExit(f"the ladder did not reach {k} games per agent within an hour")
            taus[k] = kendall_tau([rank_of[row["agentId"]] for row in board])
        client.post("/api/v1/ladder/pause", headers=admin)
        errors = client.get("/api/v1/matches", params={"limit": 500}).json()["items"]
    return {
        "taus": taus,
        "board": [
            {key: row[key] for key in ("rank", "agentName", "mu", "sigma", "score", "games")}
            for row in board
        ],
        "errors": sum(1 for m in errors if m["status"] == "error"),
    }


def _enter(client: TestClient, factory: Any, tier: Tier) -> str:
    """Register, submit, build and activate one tier under its own user; its agent id."""
    headers = new_user_headers(factory, f"owner-{tier.name}")
    agent = client.post(
        "/api/v1/agents", json={"name": tier.name, "game": "connectx"}, headers=headers
    ).json()["id"]
    archive = io.BytesIO()
    with tarfile.open(fileobj=archive, mode="w:gz") as tar:
        tar.add(tier.folder / "main.py", arcname="main.py")
    answer = client.post(
        f"/api/v1/agents/{agent}/submissions",
        files={"archive": ("bot.tar.gz", archive.getvalue(), "application/gzip")},
        headers=headers,
    )
    sub = answer.json()["submission"]["id"]
    deadline = time.monotonic() + 300
    while time.monotonic() < deadline:
        status = client.get(f"/api/v1/submissions/{sub}", headers=headers).json()["status"]
        if status == "success":
            break
        if status == "build_failed":
            raise SystemExit(f"{tier.name} did not build")
        time.sleep(0.1)
    activated = client.post(f"/api/v1/submissions/{sub}/activate", headers=headers)
    if activated.status_code != 200:
        raise SystemExit(f"{tier.name} was not activated: {activated.text}")
    return str(agent)


if __name__ == "__main__":
    main()
