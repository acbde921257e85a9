"""The demo: ``botarena demo --json`` in one shot, and ``botarena serve --demo`` filling its
leaderboard while it serves."""

from __future__ import annotations

import json
import time
from pathlib import Path

import httpx

from support.live import LiveServer, cli_env, run_cli
from support.services import require_sandbox


def test_demo_in_one_shot_prints_a_filled_leaderboard(tmp_path: Path) -> None:
    require_sandbox()
    done = run_cli(cli_env(tmp_path, None), "demo", "--matches", "8", "--json", timeout=240)
    assert done.returncode == 0, done.stderr
    board = json.loads(done.stdout)
    assert board["game"] == "connectx"
    names = {row["agentName"] for row in board["items"]}
    assert names == {"connectx-random", "executable-random", "connectx-greedy", "connectx-search"}
    assert [row["rank"] for row in board["items"]] == [1, 2, 3, 4]
    assert sum(row["games"] for row in board["items"]) >= 16
    # Counted once every example was active: each played its placement games (the default
    # five), the strongest one included, however late it was built.
    assert all(row["games"] >= 5 for row in board["items"]), board["items"]
    assert "every example agent is active" in done.stderr
    assert "ladder matches played" in done.stderr
    search = next(row for row in board["items"] if row["agentName"] == "connectx-search")
    assert search["rank"] <= 2, board["items"]


def test_serve_demo_builds_the_examples_and_the_ladder_plays(tmp_path: Path) -> None:
    require_sandbox()
    env = cli_env(tmp_path, None)
    env.update(
        BOTARENA_BUILDS_ENABLED="true",
        BOTARENA_MATCHES_ENABLED="true",
        BOTARENA_LADDER_ENABLED="true",
        BOTARENA_LADDER_INTERVAL="0.2",
        BOTARENA_LADDER_RATE="600",
    )
    live = LiveServer(env)
    live.start("--demo")
    try:
        deadline = time.monotonic() + 120
        rows: list[dict[str, object]] = []
        while time.monotonic() < deadline:
            answer = httpx.get(f"{live.url}/api/v1/leaderboard", params={"game": "connectx"})
            rows = answer.json()["items"]
            if len(rows) == 4 and all(int(str(r["games"])) > 0 for r in rows):
                break
            time.sleep(0.5)
    finally:
        live.stop()
    assert "4 example agents submitted" in live.output
    assert len(rows) == 4 and all(int(str(r["games"])) > 0 for r in rows), rows
