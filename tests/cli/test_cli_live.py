"""The command line against a live ``botarena serve``: every command, and a restart that
keeps all data."""

from __future__ import annotations

import json
import stat
import tomllib
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from support.live import LiveServer, cli_env, run_cli


@pytest.fixture
def env(tmp_path: Path) -> dict[str, str]:
    """SQLite in a fresh data folder: the commands are HTTP clients, the backends are covered
    by the API tests (and by the restart test below, which runs on both)."""
    return cli_env(tmp_path, None)


@pytest.fixture
def server(env: dict[str, str]) -> Iterator[LiveServer]:
    live = LiveServer(env)
    live.start()
    yield live
    live.stop()


def _create_user(env: dict[str, str], name: str, password: str, *flags: str) -> str:
    made = run_cli(env, "user", "create", name, "--password-stdin", *flags, stdin=password + "\n")
    assert made.returncode == 0, made.stderr
    token = made.stdout.strip().splitlines()[-1]
    assert token.startswith("bat_")
    return token


def test_whole_flow_through_the_cli(
    env: dict[str, str], server: LiveServer, tmp_path: Path
) -> None:
    token = _create_user(env, "carol", "carol-password", "--admin")
    me = httpx.get(f"{server.url}/api/v1/me", headers={"Authorization": f"Bearer {token}"})
    assert me.json()["role"] == "admin"

    login = run_cli(env, "login", "--server", server.url, stdin="carol\ncarol-password\n")
    assert login.returncode == 0, login.stderr
    config = tmp_path / "config" / "botarena" / "config.toml"
    assert stat.S_IMODE(config.stat().st_mode) == 0o600
    saved = tomllib.loads(config.read_text())
    assert saved["server"] == server.url and saved["token"].startswith("bat_")

    created = run_cli(env, "agent", "create", "cli-bot", "--game", "connectx", "--json")
    assert created.returncode == 0, created.stderr
    agent = json.loads(created.stdout)
    assert agent["name"] == "cli-bot" and agent["game"] == "connectx"

    by_url = run_cli(
        env,
        "submit",
        "https://git.example.com/carol/bot.git",
        "--agent",
        "cli-bot",
        "--json",
        "--no-follow",
    )
    assert by_url.returncode == 0, by_url.stderr
    first = json.loads(by_url.stdout)["submission"]
    assert first["version"] == 1 and first["status"] == "pending"

    folder = tmp_path / "mybot"
    (folder / "__pycache__").mkdir(parents=True)
    (folder / "main.py").write_text("def agent(obs, conf):\n    return 0\n")
    (folder / "__pycache__" / "main.cpython-311.pyc").write_bytes(b"junk")
    by_folder = run_cli(env, "submit", str(folder), "--agent", "cli-bot", "--no-follow")
    assert by_folder.returncode == 0, by_folder.stderr
    assert "version 2" in by_folder.stdout and "pending" in by_folder.stdout
    listed = httpx.get(f"{server.url}/api/v1/submissions", params={"agentId": agent["id"]})
    second = listed.json()["items"][1]
    assert second["codeUrl"] is None and len(second["archiveSha256"]) == 64

    status = run_cli(env, "status", second["id"], "--json")
    assert status.returncode == 0, status.stderr
    assert json.loads(status.stdout)["status"] == "pending"
    readable = run_cli(env, "status", second["id"])
    assert "pending" in readable.stdout and second["id"] in readable.stdout

    logs = run_cli(env, "logs", second["id"])
    assert logs.returncode == 1
    assert "Build logs not available" in logs.stderr


def test_cli_errors_are_clear(env: dict[str, str], server: LiveServer) -> None:
    token = _create_user(env, "dave", "dave-password")
    env = {**env, "BOTARENA_SERVER": server.url, "BOTARENA_TOKEN": token}
    dup = run_cli(env, "user", "create", "dave", "--password-stdin", stdin="another-pass\n")
    assert dup.returncode == 1 and "User dave already exists" in dup.stderr
    bad_game = run_cli(env, "agent", "create", "x", "--game", "chess")
    assert bad_game.returncode == 1 and "Unknown game 'chess'" in bad_game.stderr
    no_agent = run_cli(
        env, "submit", "https://git.example.com/a/b", "--agent", "ghost", "--no-follow"
    )
    assert no_agent.returncode == 1 and "No agent named ghost" in no_agent.stderr
    run_cli(env, "agent", "create", "dbot", "--game", "rps")
    internal = run_cli(env, "submit", "https://10.0.0.1/a/b", "--agent", "dbot", "--no-follow")
    assert internal.returncode == 1 and "internal address" in internal.stderr
    wrong_env = {**env, "BOTARENA_TOKEN": "bat_wrong"}
    bad_token = run_cli(wrong_env, "agent", "create", "y", "--game", "rps")
    assert bad_token.returncode == 1 and "Invalid token" in bad_token.stderr
    wrong_login = run_cli(env, "login", "--server", server.url, stdin="dave\nnope-nope\n")
    assert wrong_login.returncode == 1 and "Invalid username or password" in wrong_login.stderr
    down = run_cli({**env, "BOTARENA_SERVER": "http://127.0.0.1:9"}, "status", "sub-x")
    assert down.returncode == 1 and "Cannot reach the botarena server" in down.stderr


def test_restart_keeps_all_data(tmp_path: Path, database_url: str) -> None:
    env = cli_env(tmp_path, database_url)
    server = LiveServer(env)
    server.start()
    try:
        _restart_keeps_all_data(env, server)
    finally:
        server.stop()


def _restart_keeps_all_data(env: dict[str, str], server: LiveServer) -> None:
    token = _create_user(env, "erin", "erin-password")
    headers = {"Authorization": f"Bearer {token}"}
    agent = httpx.post(
        f"{server.url}/api/v1/agents", json={"name": "keeper", "game": "rps"}, headers=headers
    ).json()
    sub = httpx.post(
        f"{server.url}/api/v1/submissions",
        json={"agentId": agent["id"], "codeUrl": "https://git.example.com/e/k"},
        headers=headers,
    ).json()["submission"]
    before = httpx.get(f"{server.url}/api/v1/submissions/{sub['id']}/build-status").json()

    server.stop()
    server.start()

    assert httpx.get(f"{server.url}/api/v1/me", headers=headers).json()["username"] == "erin"
    after = httpx.get(f"{server.url}/api/v1/submissions/{sub['id']}/build-status").json()
    assert after == before
    again = httpx.post(
        f"{server.url}/api/v1/submissions",
        json={"agentId": agent["id"], "codeUrl": "https://git.example.com/e/k"},
        headers=headers,
    ).json()["submission"]
    assert again["version"] == 2


def test_serve_prints_its_url_and_demo_token(env: dict[str, str]) -> None:
    live = LiveServer(env)
    live.start("--demo")
    live.stop()
    assert f"http://127.0.0.1:{live.port}" in live.output
    token = next(line for line in live.output.splitlines() if line.startswith("bat_"))
    # The demo admin exists and a second start gives it a fresh token that works.
    live.start("--demo")
    response = httpx.get(f"{live.url}/api/v1/me", headers={"Authorization": f"Bearer {token}"})
    live.stop()
    assert response.json()["username"] == "demo" and response.json()["role"] == "admin"


def test_migrate_command(env: dict[str, str], tmp_path: Path) -> None:
    fresh = {**env, "BOTARENA_DATA_DIR": str(tmp_path / "fresh")}
    fresh.pop("BOTARENA_DATABASE_URL", None)
    first = run_cli(fresh, "migrate")
    assert first.returncode == 0 and "migrated from empty" in first.stdout
    second = run_cli(fresh, "migrate")
    assert second.returncode == 0 and "up to date" in second.stdout
    assert (tmp_path / "fresh" / "botarena.db").is_file()
    recomputed = run_cli(fresh, "ratings", "recompute")
    assert recomputed.returncode == 0
    assert "ratings recomputed from 0 ranked matches" in recomputed.stdout
