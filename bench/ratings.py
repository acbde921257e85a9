"""Rating speed: updates per second, and the time to recompute a long match history.

    python bench/ratings.py --matches 100000 --agents 50 --json

On SQLite in a temporary folder migrated to head: ``--agents`` agents with one active
submission each, and ``--matches`` finished ranked matches between random pairs (random
results, a few draws), inserted directly. It prints one JSON object:

- ``updates_per_second``: the one rating update (OpenSkill Plackett-Luce for two players, the
  counters, the time), applied in a loop in memory;
- ``recompute_seconds``: ``botarena ratings recompute`` over the whole history (reading the
  matches, computing, writing every rating), target under 5 seconds for 100,000 matches.
"""

from __future__ import annotations

import argparse
import json
import random
import statistics
import sys
import tempfile
import time
from datetime import timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "src"))

from sqlalchemy import insert  # noqa: E402

from botarena.accounts.models import User  # noqa: E402
from botarena.agents.models import Agent, Submission  # noqa: E402
from botarena.clock import utcnow  # noqa: E402
from botarena.db import migrate  # noqa: E402
from botarena.db.engine import build_engine, build_session_factory  # noqa: E402
from botarena.matches.models import Match, MatchPlayer  # noqa: E402
from botarena.ratings.book import DEFAULT_MU, DEFAULT_SIGMA, recompute, update  # noqa: E402
from botarena.ratings.models import Rating  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--matches", type=int, default=100_000)
    parser.add_argument("--agents", type=int, default=50)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    report: dict[str, object] = {"matches": args.matches, "agents": args.agents}
    report["updates_per_second"] = round(statistics.median(_updates() for _ in range(args.runs)))
    with tempfile.TemporaryDirectory() as folder:
        engine = build_engine(f"sqlite:///{folder}/bench.db")
        migrate.upgrade(engine)
        factory = build_session_factory(engine)
        _history(factory, args.agents, args.matches)
        runs = []
        for _ in range(args.runs):
            with factory() as session:
                started = time.perf_counter()
                applied = recompute(session)
                session.commit()
                runs.append(time.perf_counter() - started)
            assert applied == args.matches
        engine.dispose()
    report["recompute_seconds_runs"] = [round(r, 2) for r in runs]
    report["recompute_seconds"] = round(statistics.median(runs), 2)
    print(json.dumps(report, indent=None if args.json else 2))


def _updates(count: int = 20_000) -> float:
    rng = random.Random(1)
    pool = [
        Rating(mu=DEFAULT_MU, sigma=DEFAULT_SIGMA, games=0, wins=0, losses=0, draws=0)
        for _ in range(50)
    ]
    now = utcnow()
    started = time.perf_counter()
    for _ in range(count):
        pair = rng.sample(pool, 2)
        update(pair, rng.choice([0, 1, None]), now, "bench")
    return count / (time.perf_counter() - started)


def _history(factory: object, agents: int, matches: int) -> None:
    rng = random.Random(2)
    now = utcnow()
    with factory() as session:  # type: ignore[operator]
        session.execute(
            insert(User),
            [{"id": "usr-bench", "username": "bench", "username_key": "bench"}],
        )
        session.execute(
            insert(Agent),
            [
                {
                    "id": f"agt-{i}",
                    "name": f"a{i}",
                    "name_key": f"a{i}",
                    "game": "connectx",
                    "owner_id": "usr-bench",
                    "submission_count": 1,
                }
                for i in range(agents)
            ],
        )
        session.execute(
            insert(Submission),
            [
                {"id": f"sub-{i}", "agent_id": f"agt-{i}", "version": 1, "status": "active"}
                for i in range(agents)
            ],
        )
        rows, seats = [], []
        for index in range(matches):
            a, b = rng.sample(range(agents), 2)
            rows.append(
                {
                    "id": f"mat-{index:08d}",
                    "game": "connectx",
                    "status": "finished",
                    "seed": index,
                    "configuration": "{}",
                    "ranked": True,
                    "winner": rng.choice([0, 1, 0, 1, None]),
                    "attempts": 1,
                    "created_at": now,
                    "updated_at": now,
                    "finished_at": now + timedelta(milliseconds=index),
                    "row_version": 1,
                }
            )
            for player, agent in enumerate((a, b)):
                seats.append(
                    {
                        "match_id": f"mat-{index:08d}",
                        "player": player,
                        "agent_id": f"agt-{agent}",
                        "submission_id": f"sub-{agent}",
                    }
                )
        session.execute(insert(Match), rows)
        session.execute(insert(MatchPlayer), seats)
        session.commit()


if __name__ == "__main__":
    main()
