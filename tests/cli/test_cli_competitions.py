"""``botarena competition …`` against a live server: the list and a competition with its
leaderboard, joining an invite-only one with its code, the team's choice for the final, and
the organiser freezing it."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import httpx
import pytest

from botarena.clock import utcnow

from support.live import LiveServer, cli_env, run_cli


@pytest.fixture
def env(tmp_path: Path) -> dict[str, str]:
    return cli_env(tmp_path, None)


@pytest.fixture
def server(env: dict[str, str]) -> Iterator[LiveServer]:
    live = LiveServer(env)
    live.start()
    yield live
    live.stop()


def _token(env: dict[str, str], name: str, *admin: str) -> str:
    made = run_cli(
        env, "user", "create", name, *admin, "--password-stdin", stdin=f"{name}-password\n"
    )
    assert made.returncode == 0, made.stdout + made.stderr
    return made.stdout.split()[-1]


def test_competitions_through_the_cli(env: dict[str, str], server: LiveServer) -> None:
    boss = {**env, "BOTARENA_SERVER": server.url, "BOTARENA_TOKEN": _token(env, "boss", "--admin")}
    kim = {**env, "BOTARENA_SERVER": server.url, "BOTARENA_TOKEN": _token(env, "kim")}
    now = utcnow()
    body = {
        "game": "connectx",
        "title": "Cli Cup",
        "visibility": "invite",
        "opensAt": (now - timedelta(hours=1)).isoformat(),
        "deadlineAt": (now + timedelta(days=1)).isoformat(),
        "finalEndsAt": (now + timedelta(days=2)).isoformat(),
    }
    made = httpx.post(
        f"{server.url}/api/v1/competitions",
        json=body,
        headers={"Authorization": f"Bearer {boss['BOTARENA_TOKEN']}"},
    )
    assert made.status_code == 201, made.text
    code = made.json()["joinCode"]

    listed = run_cli(boss, "competition", "list")
    assert listed.returncode == 0 and "cli-cup" in listed.stdout and "open" in listed.stdout
    assert "cli-cup" not in run_cli(kim, "competition", "list").stdout  # invite-only

    refused = run_cli(kim, "competition", "join", "cli-cup", "--code", "wrong")
    assert refused.returncode == 1 and "join code" in refused.stderr
    joined = run_cli(kim, "competition", "join", "cli-cup", "--code", code)
    assert joined.returncode == 0, joined.stderr
    assert joined.stdout.startswith("in competition cli-cup as team tea-")

    chosen = run_cli(kim, "competition", "select", "cli-cup", "--json")
    assert chosen.returncode == 0, chosen.stderr
    assert json.loads(chosen.stdout)["effectiveSubmissionIds"] == []

    early = run_cli(boss, "competition", "final", "cli-cup")
    assert early.returncode == 1 and "after the deadline" in early.stderr
    frozen = run_cli(boss, "competition", "freeze", "cli-cup")
    assert frozen.returncode == 0 and frozen.stdout.strip() == "cli-cup is frozen"
    shown = run_cli(kim, "competition", "show", "cli-cup")
    assert shown.returncode == 0 and "frozen" in shown.stdout and "final standings" in shown.stdout
