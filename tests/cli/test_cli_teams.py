"""``botarena team …`` against a live ``botarena serve``: a team made, joined with its code
(or its link), shown, left; a refusal ends the command with the server's reason."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from support.live import LiveServer, cli_env, run_cli

sqlite_only = pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)


@pytest.fixture
def env(tmp_path: Path, database_url: str) -> dict[str, str]:
    return cli_env(tmp_path, database_url)


@pytest.fixture
def server(env: dict[str, str]) -> Iterator[LiveServer]:
    live = LiveServer(env)
    live.start()
    yield live
    live.stop()


def _as(env: dict[str, str], home: Path, server: LiveServer, name: str) -> dict[str, str]:
    """``env`` with a config of its own, signed in as ``name``."""
    mine = {**env, "HOME": str(home / name), "XDG_CONFIG_HOME": str(home / name / ".config")}
    _ok(env, "user", "create", name, "--password-stdin", stdin=f"{name}-pw-12\n")
    _ok(mine, "login", "--server", server.url, stdin=f"{name}\n{name}-pw-12\n")
    return mine


def _ok(env: dict[str, str], *args: str, stdin: str = "") -> str:
    done = run_cli(env, *args, stdin=stdin)
    assert done.returncode == 0, (args, done.stdout, done.stderr)
    return done.stdout


@sqlite_only
def test_a_team_made_joined_shown_and_left_from_the_command_line(
    env: dict[str, str], server: LiveServer, tmp_path: Path
) -> None:
    dana = _as(env, tmp_path, server, "dana")
    eve = _as(env, tmp_path, server, "eve")
    _ok(dana, "agent", "create", "danas", "--game", "connectx")
    [danas_team] = json.loads(_ok(dana, "team", "show", "--json"))
    competition = danas_team["competitionId"]

    made = _ok(eve, "team", "create", "Blue Sky", "--competition", competition)
    assert "invite code (shown this once):" in made
    link = made.split("invite link: ", 1)[1].strip()
    assert link.startswith(f"{server.url}/teams/join?code=")
    # Dana owns an agent in her own team: refused, with the reason.
    refused = run_cli(dana, "team", "join", link)
    assert refused.returncode != 0
    assert "already in team dana" in refused.stdout + refused.stderr

    frank = _as(env, tmp_path, server, "frank")
    assert "joined team Blue Sky" in _ok(frank, "team", "join", link)
    [blue] = json.loads(_ok(frank, "team", "show", "--json"))
    shown = _ok(frank, "team", "show", blue["id"])
    assert "member eve (owner)" in shown and "member frank" in shown
    assert f"left team {blue['id']}" in _ok(frank, "team", "leave", blue["id"])
    assert json.loads(_ok(frank, "team", "show", "--json")) == []
