"""Cancelling a match while its agents think, on a real executor: the match ends cancelled
and both agents' processes (or containers) are gone, on the local runner and the docker
runner; on PostgreSQL the cancel is served by another server than the one dispatching, and
reaches its dispatcher through the database's notifications."""

from __future__ import annotations

import contextlib
import time
from typing import Any

import docker.errors
import pytest
from fastapi.testclient import TestClient

from botarena.db.engine import SessionFactory
from botarena.executor.runners.docker import LABEL, connect
from botarena.executor.runners.warm_pool import WAIT_SCRIPT
from botarena.settings import Settings

from support.accounts import Account
from support.building import Built
from support.rows import match_row
from support.thinkers import gone_after, new_mark, thinker, thinking_agents

# Performance targets live in the benchmark (bench/cancel_latency.py); this only bounds it.
_DEADLINE = 10.0


@pytest.mark.parametrize(
    ("database_url", "backend_settings"),
    [
        ("sqlite", "local"),
        pytest.param("postgres", "local", marks=pytest.mark.postgres),
        ("sqlite", "docker"),
    ],
    indirect=True,
)
def test_a_running_match_cancelled_is_stopped_on_its_executor(
    built: Built,
    playing: TestClient,
    client: TestClient,
    play_settings: Settings,
    session_factory: SessionFactory,
    alice: Account,
) -> None:
    mark = new_mark()
    agent, _ = built(alice, "thinker", {"main.py": thinker(mark)})
    created = playing.post(
        "/api/v1/matches", json={"agent1Id": agent, "agent2Id": agent}, headers=alice.headers
    )
    assert created.status_code == 201, created.text
    match_id = created.json()["id"]
    agents = thinking_agents(mark, 2, seconds=60)
    assert match_row(session_factory, match_id).status == "running"

    # On PostgreSQL another server (no dispatcher of its own) serves the cancel.
    other = client if play_settings.resolved_database_url.startswith("postgresql") else playing
    answer = other.post(f"/api/v1/matches/{match_id}/cancel", headers=alice.headers)
    assert answer.status_code == 200, answer.text
    assert answer.json()["status"] == "cancelled"
    gone_after(mark, agents, _DEADLINE)
    if play_settings.docker_host:
        engine = connect(play_settings.docker_host)
        try:
            deadline = time.monotonic() + _DEADLINE
            while _agent_containers(engine):
                assert time.monotonic() < deadline, "agent containers left behind"
                time.sleep(0.05)
        finally:
            engine.close()

    time.sleep(1.5)  # past a heartbeat and the executor's answer: nothing changes the match
    match = playing.get(f"/api/v1/matches/{match_id}").json()
    assert match["status"] == "cancelled" and match["attempts"] == 1, match
    assert [h["status"] for h in match["statusHistory"]] == ["queued", "running", "cancelled"]
    assert match["winner"] is None and match["scores"] is None
    assert playing.get(f"/api/v1/matches/{match_id}/replay").status_code == 404


def _agent_containers(engine: Any) -> list[str]:
    """Containers an agent ran in that still exist; the warm pool's idle ones (only our
    waiter in them, no agent yet) are not."""
    left = []
    for found in engine.api.containers(all=True, filters={"label": LABEL}):
        if found["State"] == "running" and found["Labels"].get(LABEL) == "warm":
            with contextlib.suppress(docker.errors.APIError):
                processes = engine.api.top(found["Id"])["Processes"] or []
                # ps shows the waiter's command line cut short: a prefix of the whole one.
                waiter = f"/bin/sh -c {WAIT_SCRIPT} botarena-wait"
                if processes and all(waiter.startswith(row[-1]) for row in processes):
                    continue
        left.append(found["Id"])
    return left
