"""``botarena token …``, ``botarena audit`` and the audited ``user`` and ``ratings`` commands
against a live ``botarena serve``, on both databases."""

from __future__ import annotations

import json
import tomllib
from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest

from support.live import LiveServer, cli_env, run_cli


@pytest.fixture
def env(tmp_path: Path, database_url: str) -> dict[str, str]:
    return cli_env(tmp_path, database_url)


@pytest.fixture
def server(env: dict[str, str]) -> Iterator[LiveServer]:
    live = LiveServer(env)
    live.start()
    yield live
    live.stop()


def _ok(env: dict[str, str], *args: str, stdin: str = "") -> str:
    done = run_cli(env, *args, stdin=stdin)
    assert done.returncode == 0, (args, done.stdout, done.stderr)
    return done.stdout


def _me(server: LiveServer, token: str) -> httpx.Response:
    return httpx.get(f"{server.url}/api/v1/me", headers={"Authorization": f"Bearer {token}"})


def _saved_token(tmp_path: Path) -> str:
    config = tomllib.loads((tmp_path / "config" / "botarena" / "config.toml").read_text())
    token: str = config["token"]
    return token


def test_tokens_and_the_audit_log_through_the_cli(
    env: dict[str, str], server: LiveServer, tmp_path: Path
) -> None:
    created = _ok(
        env, "user", "create", "carol", "--admin", "--password-stdin", stdin="carol-pw-1\n"
    )
    first = created.strip().splitlines()[-1]
    assert "expires " in created and first.startswith("bat_")

    login = _ok(env, "login", "--server", server.url, stdin="carol\ncarol-pw-1\n")
    assert "expires " in login and "botarena token renew" in login
    signed_in = _saved_token(tmp_path)

    tokens = json.loads(_ok(env, "token", "list", "--json"))
    assert len(tokens) == 2 and [t["current"] for t in tokens] == [False, True]
    assert tokens[0]["name"] == "first" and "token" not in tokens[0]
    readable = _ok(env, "token", "list")
    assert tokens[1]["id"] in readable and "active" in readable

    renewed = _ok(env, "token", "renew", "--days", "7")
    assert "revoked the old token" in renewed
    new = _saved_token(tmp_path)
    assert new != signed_in
    assert _me(server, signed_in).json()["error"] == "Token revoked"
    assert _me(server, new).json()["username"] == "carol"
    after = json.loads(_ok(env, "token", "list", "--json"))
    current = next(t for t in after if t["current"])
    lifetime = datetime.fromisoformat(current["expiresAt"]) - datetime.fromisoformat(
        current["createdAt"]
    )
    assert lifetime == timedelta(days=7)

    _ok(env, "token", "revoke", tokens[0]["id"])
    assert _me(server, first).json()["error"] == "Token revoked"

    dan = _ok(env, "user", "create", "dan", "--password-stdin", stdin="dan-password\n")
    dan_token = dan.strip().splitlines()[-1]
    assert "now an admin" in _ok(env, "user", "set-admin", "dan")
    assert "already an admin" in _ok(env, "user", "set-admin", "dan")
    assert "now a participant" in _ok(env, "user", "set-admin", "dan", "--remove")
    assert "now disabled" in _ok(env, "user", "disable", "dan")
    assert _me(server, dan_token).json()["error"] == "Account disabled"
    assert "now enabled" in _ok(env, "user", "enable", "dan")
    assert _me(server, dan_token).status_code == 200
    missing = run_cli(env, "user", "disable", "nobody")
    assert missing.returncode == 1 and "No user named nobody" in missing.stderr
    assert "ratings recomputed" in _ok(env, "ratings", "recompute")

    log = json.loads(_ok(env, "audit", "--json", "--limit", "500"))
    entries: list[dict[str, Any]] = log["items"]
    actions = sorted(e["action"] for e in entries)
    assert actions == sorted(
        ["user.created"] * 2
        + ["token.created"] * 4  # carol's first, the sign-in, the renewal, dan's first
        + ["token.revoked"] * 2
        + ["user.made_admin", "user.admin_removed", "user.disabled", "user.enabled"]
        + ["ratings.recomputed"]
    )
    by_cli = [e for e in entries if e["actor"] == "system/cli"]
    assert {e["action"] for e in by_cli} == {
        "user.created", "token.created", "user.made_admin", "user.admin_removed",
        "user.disabled", "user.enabled", "ratings.recomputed",
    }  # fmt: skip
    assert all(e["actorId"] is None and e["clientAddress"] is None for e in by_cli)
    over_http = [e for e in entries if e["actor"] == "carol"]
    assert {e["details"].get("method") for e in over_http if e["action"] == "token.created"} == {
        "password",
        "token",
    }
    assert all(e["clientAddress"] == "127.0.0.1" and e["requestId"] for e in over_http)

    table = _ok(env, "audit", "--action", "user.disabled")
    assert "user.disabled" in table and "system/cli" in table and "1 of 1 entries" in table
    assert "user.created" not in table

    as_dan = {**env, "BOTARENA_TOKEN": dan_token, "BOTARENA_SERVER": server.url}
    refused = run_cli(as_dan, "audit")
    assert refused.returncode == 1 and "Only admins may read the audit log" in refused.stderr
    from_env = run_cli(as_dan, "token", "renew")
    assert from_env.returncode == 1 and "BOTARENA_TOKEN is set" in from_env.stderr
    assert _me(server, dan_token).status_code == 200
    bad_days = run_cli(env, "token", "renew", "--days", "0")
    assert bad_days.returncode != 0
    assert _me(server, new).status_code == 200
