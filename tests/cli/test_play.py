"""``botarena play``: one sandboxed match between two folders, readable or as JSON."""

from __future__ import annotations

import json
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
        {"status": "DONE", "reason": None},
        {"status": "INVALID", "reason": "illegal action: column 99 is out of range 0..6"},
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
        (["--game", "chess"], "Unknown game 'chess'; known games: connectx, rps, tictactoe"),
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
    a, b = _agent(tmp_path, "Player-A", RANDOM), _agent(tmp_path, "b", ILLEGAL)
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
