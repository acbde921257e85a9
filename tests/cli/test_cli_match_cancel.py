"""``botarena match cancel MATCH_ID`` against a live server: what it says when the match is
cancelled, and the server's reason when it is not."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from sqlalchemy import update

from botarena.agents.models import Submission
from botarena.db.engine import build_engine

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


def _queued_match(server: LiveServer, env: dict[str, str], token: str) -> str:
    """A match between two new agents whose submissions pass for built; it stays queued
    (this server dispatches nothing)."""
    headers = {"Authorization": f"Bearer {token}"}
    agents = []
    for name in ("cancel-me-a", "cancel-me-b"):
        agent = httpx.post(
            f"{server.url}/api/v1/agents", json={"name": name, "game": "connectx"}, headers=headers
        ).json()["id"]
        body = {"agentId": agent, "codeUrl": "https://git.example.com/a/b"}
        httpx.post(f"{server.url}/api/v1/submissions", json=body, headers=headers)
        agents.append(agent)
    engine = build_engine(f"sqlite:///{Path(env['BOTARENA_DATA_DIR']) / 'botarena.db'}")
    with engine.begin() as connection:
        connection.execute(update(Submission).values(status="success"))
    engine.dispose()
    created = httpx.post(
        f"{server.url}/api/v1/matches",
        json={"agent1Id": agents[0], "agent2Id": agents[1]},
        headers=headers,
    )
    assert created.status_code == 201, created.text
    match_id: str = created.json()["id"]
    return match_id


def test_match_cancel_through_the_cli(env: dict[str, str], server: LiveServer) -> None:
    made = run_cli(env, "user", "create", "hal", "--password-stdin", stdin="hal-password\n")
    token = made.stdout.split()[-1]
    env = {**env, "BOTARENA_SERVER": server.url, "BOTARENA_TOKEN": token}
    match_id = _queued_match(server, env, token)

    done = run_cli(env, "match", "cancel", match_id)
    assert done.returncode == 0, done.stdout + done.stderr
    assert done.stdout.strip() == f"cancelled match {match_id}"

    again = run_cli(env, "match", "cancel", match_id)
    assert again.returncode == 1
    assert f"Match {match_id} has ended already (cancelled)" in again.stderr
    assert "Only a queued or running match can be cancelled." in again.stderr

    unknown = run_cli(env, "match", "cancel", "mat-000000000000000000000000")
    assert unknown.returncode == 1 and "not found" in unknown.stderr

    refused = run_cli(env, "match", "cancel", match_id, "--json")
    assert refused.returncode == 1 and refused.stdout == ""
    shown = httpx.get(f"{server.url}/api/v1/matches/{match_id}").json()
    assert [h["status"] for h in shown["statusHistory"]] == ["queued", "cancelled"]
