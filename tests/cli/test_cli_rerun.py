"""``botarena rerun`` against a live server that builds and plays: a match of deterministic
agents reproduced exactly, a tampered replay caught at its step, a stranger refused."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path

import pytest

from support.agent_sources import FAIR
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


def _signed_in(env: dict[str, str], live: LiveServer, name: str) -> dict[str, str]:
    made = run_cli(env, "user", "create", name, "--password-stdin", stdin=f"{name}-password\n")
    assert made.returncode == 0, made.stderr
    return {**env, "BOTARENA_SERVER": live.url, "BOTARENA_TOKEN": made.stdout.split()[-1]}


def _agent_folders(tmp_path: Path) -> dict[str, Path]:
    """Two agents of the example greedy's rules: ``steady`` breaks ties by the lowest column
    (deterministic), ``fickle`` picks any open column at random."""
    greedy = (EXAMPLES / "connectx-greedy" / "main.py").read_text()
    assert "random.choice(" in greedy
    sources = {"steady": greedy.replace("random.choice(", "min("), "fickle": FAIR}
    folders = {}
    for name, source in sources.items():
        folders[name] = tmp_path / name
        folders[name].mkdir()
        (folders[name] / "main.py").write_text(source)
    return folders


def test_rerun_reproduces_a_match_and_finds_a_changed_move(
    server: tuple[LiveServer, dict[str, str]], tmp_path: Path
) -> None:
    live, env = server
    hal = _signed_in(env, live, "hal")
    folders = _agent_folders(tmp_path)
    for name, folder in (("gree-a", "steady"), ("gree-b", "steady"), ("dice", "fickle")):
        assert run_cli(hal, "agent", "create", name, "--game", "connectx").returncode == 0
        built = run_cli(hal, "submit", str(folders[folder]), "--agent", name)
        assert built.returncode == 0, built.stdout + built.stderr
    played = run_cli(hal, "match", "gree-a", "gree-b", "--seed", "7", "--json", timeout=120)
    assert played.returncode == 0, played.stdout + played.stderr
    match = json.loads(played.stdout)
    assert match["status"] == "finished"
    match_id = match["id"]

    same = run_cli(hal, "rerun", match_id, timeout=120)
    assert same.returncode == 0, same.stdout + same.stderr
    assert "identical: the same result and all" in same.stdout
    assert "downloading player 0's code: gree-a v1" in same.stderr
    assert "sha256 checked" in same.stderr
    assert f"playing match {match_id} again: connectx, seed 7" in same.stderr

    # The recorded replay changed on the server: one move of step 3 is not what was played.
    replay_file = Path(env["BOTARENA_DATA_DIR"]) / "matches" / match_id / "replay.json"
    recorded = json.loads(replay_file.read_text())
    step = recorded["steps"][3]
    (player, column), *_ = step["actions"].items()
    step["actions"][player] = (column + 1) % 7
    replay_file.write_text(json.dumps(recorded))
    changed = run_cli(hal, "rerun", match_id, "--json", timeout=120)
    assert changed.returncode == 1, changed.stdout + changed.stderr
    report = json.loads(changed.stdout)
    assert report["identical"] is False
    assert report["difference"] == {
        "step": 3,
        "what": "actions",
        "recorded": {player: (column + 1) % 7},
        "replayed": {player: column},
    }

    # An agent that plays at random does not play the same moves again (the chance that
    # every random move of a game repeats is about 7 to the power of minus its moves).
    played = run_cli(hal, "match", "dice", "gree-a", "--seed", "7", "--json", timeout=120)
    dice_match = json.loads(played.stdout)["id"]
    again = run_cli(hal, "rerun", dice_match, timeout=120)
    assert again.returncode == 1, again.stdout + again.stderr
    said = again.stdout.splitlines()
    assert re.fullmatch(r"different at step [1-9][0-9]*: actions", said[2])
    move = r"  (\w+): (player \d: \d)"
    recorded_move, replayed_move = (re.fullmatch(move, line) for line in said[3:5])
    assert recorded_move and replayed_move and recorded_move[1] == "recorded"
    assert recorded_move[2] != replayed_move[2]

    # Someone else's agents: refused by the server, with exit code 2 (not "different").
    stranger = _signed_in(env, live, "eve")
    refused = run_cli(stranger, "rerun", match_id)
    assert refused.returncode == 2
    assert "Only admins and whoever may download both submissions" in refused.stderr
    unknown = run_cli(hal, "rerun", "mat-nope")
    assert unknown.returncode == 2 and "Match mat-nope not found" in unknown.stderr
