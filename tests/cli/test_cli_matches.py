"""``botarena match`` and ``botarena replay`` against a live server that builds and plays."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from support.live import LiveServer, cli_env, run_cli
from support.services import require_sandbox

EXAMPLES = Path(__file__).resolve().parents[2] / "examples" / "agents"


@pytest.fixture
def server(tmp_path: Path) -> Iterator[tuple[LiveServer, dict[str, str]]]:
    require_sandbox()
    env = cli_env(tmp_path, None)
    env.update(BOTARENA_BUILDS_ENABLED="true", BOTARENA_MATCHES_ENABLED="true")
    live = LiveServer(env)
    live.start()
    yield live, env
    live.stop()


def test_match_and_replay_through_the_cli(server: tuple[LiveServer, dict[str, str]]) -> None:
    live, env = server
    made = run_cli(env, "user", "create", "hal", "--password-stdin", stdin="hal-password\n")
    env = {**env, "BOTARENA_SERVER": live.url, "BOTARENA_TOKEN": made.stdout.split()[-1]}
    subs = []
    for name, example in (("randy", "connectx-random"), ("gree", "connectx-greedy")):
        assert run_cli(env, "agent", "create", name, "--game", "connectx").returncode == 0
        built = run_cli(
            env, "submit", str(EXAMPLES / example), "--agent", name, "--json", timeout=120
        )
        assert built.returncode == 0, built.stdout + built.stderr
        subs.append(json.loads(built.stdout)["submission"]["id"])

    followed = run_cli(env, "match", "randy", "gree", "--seed", "4", timeout=120)
    assert followed.returncode == 0, followed.stdout + followed.stderr
    lines = followed.stdout
    assert "queued match mat-" in lines
    assert lines.index("queued ") < lines.index("running") < lines.index("finished")
    assert "scores [" in lines

    done = json.loads(run_cli(env, "match", "randy", "gree", "--json", timeout=120).stdout)
    assert done["status"] == "finished" and len(done["agents"]) == 2

    shown = run_cli(env, "replay", done["id"])
    assert shown.returncode == 0, shown.stderr
    assert shown.stdout.startswith("step 0")
    assert shown.stdout.count("step ") == len(
        json.loads(run_cli(env, "replay", done["id"], "--json").stdout)["steps"]
    )
    assert "0 1 2 3 4 5 6" in shown.stdout  # the board's column numbers

    # No submission is active yet: the leaderboard is empty, and says so as a table too.
    board = run_cli(env, "leaderboard", "--game", "connectx", "--json")
    assert board.returncode == 0
    listed = json.loads(board.stdout)
    assert listed["game"] == "connectx" and listed["items"] == []
    assert listed["competitionId"].startswith("cmp-")  # the game's default competition
    table = run_cli(env, "leaderboard", "--game", "connectx")
    assert table.returncode == 0 and "rank" in table.stdout

    missing = run_cli(env, "match", "randy", "nobody")
    assert missing.returncode != 0 and "No agent named nobody" in missing.stderr
    unknown = run_cli(env, "replay", "mat-nope")
    assert unknown.returncode != 0 and "Match mat-nope not found" in unknown.stderr

    # Tournaments: admins only; followed to the end, then shown as standings.
    refused = run_cli(env, "tournament", "start", "--game", "connectx", "--format", "swiss")
    assert refused.returncode != 0 and "Only admins may create tournaments" in refused.stderr
    made = run_cli(env, "user", "create", "root", "--admin", "--password-stdin", stdin="r" * 12)
    admin = {**env, "BOTARENA_TOKEN": made.stdout.split()[-1]}
    entrants = [arg for sub in subs for arg in ("--submission", sub)]
    started = run_cli(
        admin,
        *("tournament", "start", "--game", "connectx", "--format", "single_elimination"),
        *(*entrants, "--games-per-pairing", "2", "--seed", "5", "--follow"),
        timeout=120,
    )
    assert started.returncode == 0, started.stdout + started.stderr
    assert "started tournament tou-" in started.stdout and "round 1 of 1" in started.stdout
    assert "rank" in started.stdout and "round 1: " in started.stdout
    tournament_id = started.stdout.split("started tournament ")[1].split()[0]
    shown = json.loads(run_cli(env, "tournament", "show", tournament_id, "--json").stdout)
    assert shown["status"] == "finished" and shown["bracket"][0]["pairings"][0]["winner"]
    late = run_cli(admin, "tournament", "cancel", tournament_id)
    assert late.returncode != 0 and "is finished already" in late.stderr
    missing = run_cli(env, "tournament", "show", "tou-nope")
    assert missing.returncode != 0 and "Tournament tou-nope not found" in missing.stderr
