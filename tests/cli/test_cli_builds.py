"""The command line following real builds on a live server that builds."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from support.build_status import wait_for_build
from support.live import LiveServer, cli_env, run_cli

EXAMPLES = Path(__file__).resolve().parents[2] / "examples" / "agents"


@pytest.fixture
def env(tmp_path: Path, backend_settings: dict[str, str]) -> dict[str, str]:
    """A live server's environment, building with each backend."""
    environment = cli_env(tmp_path, None)
    environment["BOTARENA_BUILDS_ENABLED"] = "true"
    environment["BOTARENA_BUILD_CHECK_INTERVAL"] = "1"
    environment.update({f"BOTARENA_{k.upper()}": v for k, v in backend_settings.items()})
    return environment


@pytest.fixture
def server(env: dict[str, str]) -> Iterator[LiveServer]:
    live = LiveServer(env)
    live.start()
    yield live
    live.stop()


def test_submit_follows_the_build(env: dict[str, str], server: LiveServer, tmp_path: Path) -> None:
    made = run_cli(env, "user", "create", "fay", "--password-stdin", stdin="fay-password\n")
    env = {**env, "BOTARENA_SERVER": server.url, "BOTARENA_TOKEN": made.stdout.split()[-1]}
    assert run_cli(env, "agent", "create", "follower", "--game", "connectx").returncode == 0

    good = run_cli(
        env, "submit", str(EXAMPLES / "connectx-random"), "--agent", "follower", timeout=120
    )
    assert good.returncode == 0, good.stdout + good.stderr
    assert "building" in good.stdout and "build succeeded" in good.stdout
    assert "==> " in good.stdout  # the build log's lines, live

    broken = tmp_path / "broken"
    broken.mkdir()
    (broken / "main.py").write_text("def agent(o, c):\n    raise RuntimeError('nope')\n")
    bad = run_cli(env, "submit", str(broken), "--agent", "follower", "--json", timeout=120)
    assert bad.returncode == 1
    result = json.loads(bad.stdout)
    assert result["build"]["status"] == "build_failed"
    assert result["build"]["errorMessage"].startswith("validation_failed: ")
    sub = result["submission"]["id"]

    log = run_cli(env, "logs", sub, "--follow")
    assert log.returncode == 0 and "RuntimeError: nope" in log.stdout

    again = run_cli(env, "rebuild", sub, timeout=120)
    assert again.returncode == 1
    assert "rebuilding" in again.stdout and "build_failed" in again.stdout


SLOW_SETUP = """\
import time
from setuptools import setup
time.sleep(4)  # a slow build step: long enough to kill the server in the middle of it
setup(name="slowpkg", version="0.1", py_modules=["slowpkg"])
"""


def test_a_server_killed_mid_build_builds_it_after_restart(
    env: dict[str, str], server: LiveServer, tmp_path: Path
) -> None:
    made = run_cli(env, "user", "create", "gus", "--password-stdin", stdin="gus-password\n")
    token = made.stdout.split()[-1]
    env = {**env, "BOTARENA_SERVER": server.url, "BOTARENA_TOKEN": token}
    run_cli(env, "agent", "create", "sturdy", "--game", "connectx")
    folder = tmp_path / "sturdy"
    (folder / "slowpkg").mkdir(parents=True)
    (folder / "main.py").write_text((EXAMPLES / "connectx-random" / "main.py").read_text())
    (folder / "requirements.txt").write_text("./slowpkg\n")
    (folder / "slowpkg" / "setup.py").write_text(SLOW_SETUP)
    (folder / "slowpkg" / "slowpkg.py").write_text("VALUE = 1\n")
    sub = json.loads(
        run_cli(env, "submit", str(folder), "--agent", "sturdy", "--no-follow", "--json").stdout
    )["submission"]["id"]
    headers = {"Authorization": f"Bearer {token}"}

    def status() -> dict[str, object]:
        answer = httpx.get(f"{server.url}/api/v1/submissions/{sub}/build-status", headers=headers)
        result: dict[str, object] = answer.json()
        return result

    deadline = time.monotonic() + 30
    while status()["status"] != "building" and time.monotonic() < deadline:
        time.sleep(0.1)
    time.sleep(1.5)  # well into the slow install
    server.kill()
    server.start()
    with httpx.Client(base_url=server.url, headers=headers, timeout=30) as client:
        final = wait_for_build(client, sub, seconds=120)
    assert final["status"] == "success", final
    history = [h["status"] for h in final["statusHistory"]]
    assert history == ["pending", "building", "pending", "building", "success"]
