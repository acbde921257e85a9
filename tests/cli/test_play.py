"""``botarena play``: one sandboxed match between two folders, readable or as JSON."""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from pathlib import Path

import pytest

from support.docker import GVISOR, Engine
from support.live import cli_env, run_cli

RANDOM = (
    "import random\n"
    "def agent(obs, conf):\n"
    "    return random.choice([c for c in range(conf.columns) if obs.board[c] == 0])\n"
)
ILLEGAL = "def agent(obs, conf):\n    return 99\n"
# Prints when loaded and at every turn, to stdout and stderr, text that looks like markup.
CHATTY = (
    "import random, sys\n"
    "print('loaded [bold]as is[/bold]')\n"
    "def agent(obs, conf):\n"
    "    print('stdout at step', obs.step)\n"
    "    print('stderr at step', obs.step, file=sys.stderr)\n"
    "    return random.choice([c for c in range(conf.columns) if obs.board[c] == 0])\n"
)


@pytest.fixture
def env(tmp_path: Path) -> dict[str, str]:
    environment = cli_env(tmp_path, None)
    environment["XDG_CACHE_HOME"] = str(tmp_path / "cache")
    return environment


def _agent(root: Path, name: str, source: str) -> str:
    folder = root / name
    folder.mkdir()
    (folder / "main.py").write_text(source)
    return str(folder)


def test_json_result_and_replay(env: dict[str, str], tmp_path: Path) -> None:
    a, b = _agent(tmp_path, "a", RANDOM), _agent(tmp_path, "b", ILLEGAL)
    replay = tmp_path / "replay.json"
    done = run_cli(
        env,
        "play",
        "--game",
        "connectx",
        a,
        b,
        "--seed",
        "5",
        "--json",
        "--config",
        "actTimeout=1",
        "--config",
        "overageTime=1",
        "--replay",
        str(replay),
    )
    assert done.returncode == 0, done.stderr
    result = json.loads(done.stdout)
    assert result["status"] == "finished" and result["winner"] == 0
    assert result["agents"] == [
        {"status": "DONE", "reason": None, "log": ""},
        {
            "status": "INVALID",
            "reason": "illegal action: column 99 is out of range 0..6",
            "log": "",
        },
    ]
    assert result["scores"] == [1.0, 0.0] and result["turns"] == 1
    assert isinstance(result["durationMs"], int) and result["seed"] == 5
    saved = json.loads(replay.read_text())
    assert saved["configuration"]["actTimeout"] == 1 and saved["configuration"]["overageTime"] == 1
    assert len(saved["steps"]) == 2
    assert "isolation: bubblewrap sandbox" in done.stderr


def test_readable_summary_shows_the_board(env: dict[str, str], tmp_path: Path) -> None:
    a, b = _agent(tmp_path, "a", RANDOM), _agent(tmp_path, "b", RANDOM)
    done = run_cli(env, "play", "--game", "connectx", a, b, "--seed", "1")
    assert done.returncode == 0, done.stderr
    assert "0 1 2 3 4 5 6" in done.stdout
    assert "winner: player" in done.stdout or "draw" in done.stdout
    assert "seed 1" in done.stdout


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--game", "chess"], "Unknown game 'chess'; known games: connectx, geese, rps, tictactoe"),
        (["--game", "connectx", "--config", "rows=99"], "rows must be an integer from 3 to 20"),
        (["--game", "connectx", "--config", "speed=3"], "speed"),
        (["--game", "connectx", "--config", "rows"], "--config takes KEY=VALUE"),
        (["--game", "connectx", "--runtime", "cloud"], "Unknown runtime 'cloud'"),
    ],
)
def test_bad_options(env: dict[str, str], tmp_path: Path, args: list[str], message: str) -> None:
    a = _agent(tmp_path, "a", RANDOM)
    done = run_cli(env, "play", a, a, *args)
    assert done.returncode == 1
    assert message in done.stderr


def test_a_folder_that_is_not_an_agent(env: dict[str, str], tmp_path: Path) -> None:
    a = _agent(tmp_path, "a", RANDOM)
    empty = tmp_path / "empty"
    empty.mkdir()
    done = run_cli(env, "play", "--game", "connectx", a, str(empty))
    assert done.returncode == 1
    assert "has neither main.py nor a command in botarena.toml" in done.stderr


@pytest.mark.parametrize("runtime", [None, GVISOR], ids=["docker", "gvisor"])
def test_docker_runtime_builds_images_and_plays_in_containers(
    env: dict[str, str],
    tmp_path: Path,
    docker_daemon: Engine,
    python_image: str,
    runtime: str | None,
) -> None:
    a, b = _agent(tmp_path, "Player-A", CHATTY), _agent(tmp_path, "b", ILLEGAL)
    env = {
        **env,
        "BOTARENA_DOCKER_HOST": docker_daemon.url,
        "BOTARENA_DOCKER_BASE_IMAGE": python_image,
        "BOTARENA_DOCKER_RUNTIME": runtime or "",
    }
    done = run_cli(env, "play", "--game", "connectx", a, b, "--json", "--runtime", "docker")
    assert done.returncode == 0, done.stderr
    result = json.loads(done.stdout)
    assert result["winner"] == 0 and result["agents"][1]["status"] == "INVALID"
    assert result["agents"][0]["log"] == (
        "loaded [bold]as is[/bold]\nstdout at step 0\nstderr at step 0\n"
    )
    assert "building player 0" in done.stderr and "botarena/play-player-a:latest" in done.stderr
    expected = f"the {runtime} runtime" if runtime else "the engine's runtime"
    assert f"isolation: containers with {expected}" in done.stderr
    # The participant's folders are left as they were.
    assert sorted(p.name for p in Path(a).iterdir()) == ["main.py"]


def test_docker_runtime_without_an_engine(env: dict[str, str], tmp_path: Path) -> None:
    a = _agent(tmp_path, "a", RANDOM)
    env = {**env, "BOTARENA_DOCKER_HOST": f"unix://{tmp_path / 'none.sock'}"}
    done = run_cli(env, "play", "--game", "connectx", a, a, "--runtime", "docker")
    assert done.returncode != 0
    assert "the container engine cannot be reached" in done.stderr


def test_each_agent_log_is_shown_after_the_match(env: dict[str, str], tmp_path: Path) -> None:
    a, b = _agent(tmp_path, "a", CHATTY), _agent(tmp_path, "b", ILLEGAL)
    done = run_cli(env, "play", "--game", "connectx", a, b, "--seed", "2")
    assert done.returncode == 0, done.stderr
    result, logs = done.stdout.split(f"--- player 0 ({a}) log ---\n")
    assert "winner: player 0 (a)" in result and "seed 2" in result
    # Printed as the agent printed it (brackets are not markup), then the silent seat.
    assert logs == (
        "loaded [bold]as is[/bold]\n"
        "stdout at step 0\n"
        "stderr at step 0\n"
        f"--- player 1 ({b}) log ---\n"
        "(nothing printed)\n"
    )


def test_logs_in_the_json_the_replay_and_a_folder(env: dict[str, str], tmp_path: Path) -> None:
    from botarena.games.registry import get_game
    from botarena.games.replays import replay_states

    a, b = _agent(tmp_path, "a", CHATTY), _agent(tmp_path, "b", CHATTY)
    folder = tmp_path / "not" / "yet" / "there"
    replay = tmp_path / "replay.json"
    args = ["--seed", "4", "--json", "--logs", str(folder), "--replay", str(replay)]
    done = run_cli(env, "play", "--game", "connectx", a, b, *args)
    assert done.returncode == 0, done.stderr
    result = json.loads(done.stdout)
    turns = result["turns"]
    assert turns >= 7
    logs = [agent["log"] for agent in result["agents"]]
    for player, log in enumerate(logs):
        lines = log.splitlines()
        assert lines[0] == "loaded [bold]as is[/bold]"
        # Player 0 moves at the even steps, player 1 at the odd ones, each step in order.
        steps = range(player, turns, 2)
        assert lines[1:] == [
            f"{stream} at step {s}" for s in steps for stream in ("stdout", "stderr")
        ]
    assert sorted(p.name for p in folder.iterdir()) == ["player-0.log", "player-1.log"]
    assert [(folder / f"player-{i}.log").read_text() for i in (0, 1)] == logs
    assert f"logs written to {folder / 'player-0.log'}" in done.stderr
    saved = json.loads(replay.read_text())
    assert [agent["log"] for agent in saved["agents"]] == logs
    assert saved["agents"][0]["status"] == result["agents"][0]["status"]
    # The replay's readers still read it: every step is played back.
    assert len(list(replay_states(get_game("connectx"), saved))) == len(saved["steps"])


def test_a_log_is_bounded_as_on_the_platform(env: dict[str, str], tmp_path: Path) -> None:
    from botarena.executor.logbuffer import DEFAULT_LOG_LIMIT

    flood = (
        "print('first line')\n"
        "print('x' * 300_000)\n"
        "print('last line')\n"
        "def agent(obs, conf):\n"
        "    return 99\n"
    )
    a, b = _agent(tmp_path, "a", flood), _agent(tmp_path, "b", RANDOM)
    done = run_cli(env, "play", "--game", "connectx", a, b, "--json", "--logs", str(tmp_path))
    assert done.returncode == 0, done.stderr
    log = json.loads(done.stdout)["agents"][0]["log"]
    assert log.startswith("first line\nxxx") and log.endswith("xxx\nlast line\n")
    kept = 300_000 + len("first line\n\nlast line\n") - DEFAULT_LOG_LIMIT
    assert f"\n[… {kept} bytes of log truncated …]\n" in log
    assert (tmp_path / "player-0.log").read_text() == log


def _unwritable(tmp_path: Path) -> Path:
    """A folder this process cannot create files in: permissions, unless it runs as root
    (which they do not stop); procfs takes no new files from anyone."""
    if os.geteuid() == 0:
        return Path("/proc")
    folder = tmp_path / "read-only"
    folder.mkdir(mode=0o500)
    return folder


@pytest.mark.parametrize(
    ("make", "message"),
    [
        (lambda t: t / "a-file", "it is a file, not a folder"),
        (lambda t: t / "a-file" / "logs", "the folder cannot be created"),
        (_unwritable, "cannot write into this folder"),
    ],
    ids=["a-file", "under-a-file", "not-writable"],
)
def test_a_logs_folder_that_cannot_take_the_logs(
    env: dict[str, str], tmp_path: Path, make: Callable[[Path], Path], message: str
) -> None:
    a = _agent(tmp_path, "a", CHATTY)
    (tmp_path / "a-file").write_text("kept\n")
    target = make(tmp_path)
    done = run_cli(env, "play", "--game", "connectx", a, a, "--logs", str(target))
    assert done.returncode == 1
    assert f"error: --logs {target}: {message}" in done.stderr
    # Refused before anything was played or written.
    assert "preparing player 0" not in done.stderr and done.stdout == ""
    assert (tmp_path / "a-file").read_text() == "kept\n"
    ours = (".player-", "player-", ".botarena-")
    assert not target.is_dir() or not [p for p in target.iterdir() if p.name.startswith(ours)]


def test_four_geese_play_and_each_gets_a_place(env: dict[str, str], tmp_path: Path) -> None:
    source = Path(__file__).resolve().parents[2] / "examples/agents/geese-greedy/main.py"
    geese = [_agent(tmp_path, name, source.read_text()) for name in "abcd"]
    done = run_cli(
        env,
        "play",
        "--game",
        "geese",
        *geese[:2],
        "--with",
        geese[2],
        "--with",
        geese[3],
        "--seed",
        "2",
        "--config",
        "episodeSteps=20",
    )
    assert done.returncode == 0, done.stderr
    lines = [line for line in done.stdout.splitlines() if line.startswith("player ")]
    assert len(lines) == 4 and all(", DONE" in line and "place " in line for line in lines)
    assert "A: " in done.stdout  # the final board, a letter per goose
    refused = run_cli(env, "play", "--game", "connectx", *geese[:2], "--with", geese[2])
    assert refused.returncode != 0
    assert "ConnectX is played by 2 agents, not 3" in refused.stderr
