"""``/metrics`` of a real server doing real work: builds in the local sandbox (one that
succeeds, one that fails its validation, one left ``building`` by a dead server), matches
played by the embedded executor against agents that time out, run out of memory, fork-bomb
and answer nonsense, and requests through the real app. One run feeds every assertion."""

from __future__ import annotations

import shutil
import socket
import time
from collections.abc import Callable

import pytest
from fastapi.testclient import TestClient

from botarena.agents.models import Submission
from botarena.app import create_app
from botarena.builds.backends.base import Artifact
from botarena.db.engine import SessionFactory, session_scope
from botarena.settings import Settings

from support.accounts import Account
from support.api import create_agent, submit_archive, zip_files
from support.build_status import wait_for_build
from support.matches import wait_for_end
from support.scrapes import Samples, grew, scrape, value

sqlite_only = pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
local_only = pytest.mark.parametrize("backend_settings", ["local"], indirect=True)

# Plays fair in its validation match (the default clock) and as the first player; as the
# second player of a match with one of these clocks it misbehaves as the clock says (filling
# its 512 MiB takes a while on a busy machine: that one gets a long clock, which the kernel's
# kill ends early).
CHAMELEON = b"""
import os, random, time
def agent(obs, conf):
    legal = [c for c in range(conf.columns) if obs.board[c] == 0]
    mode = round(conf.actTimeout * 100)
    if obs.mark != 2 or mode not in (51, 1052, 53, 54):
        return random.choice(legal)
    if mode == 51:
        time.sleep(30)
    if mode == 1052:
        hog = []
        while True:
            hog.append(b"x" * (16 * 1024 * 1024))
    if mode == 53:
        while True:
            try:
                os.fork()
            except OSError:
                pass
    return 99
"""
BROKEN = b"def agent(obs, conf):\n    raise RuntimeError('broken on purpose')\n"
MODES = {"time": 0.51, "memory": 10.52, "processes": 0.53, "invalid": 0.54}


def poll(client: TestClient, until: Callable[[Samples], bool], seconds: float = 60) -> Samples:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        samples = scrape(client)
        if until(samples):
            return samples
        time.sleep(0.05)
    raise AssertionError("the metrics never showed it")


def _orphan(factory: SessionFactory, submission_id: str) -> None:
    """Left ``building`` by a server of this machine that died (another pid)."""
    with session_scope(factory) as session:
        row = session.get(Submission, submission_id)
        assert row is not None
        row.status, row.attempts = "building", 1
        row.lease_owner = f"{socket.gethostname()}:1:dead00:0"
        session.commit()


@sqlite_only
@local_only
def test_a_real_run_shows_in_every_metric(
    client: TestClient,
    settings: Settings,
    session_factory: SessionFactory,
    backend_settings: dict[str, str],
    alice: Account,
) -> None:
    # Queued while no builder runs: the depth is read from the database.
    agent = create_agent(client, alice, "chameleon")
    sub = submit_archive(client, alice, agent, zip_files({"main.py": CHAMELEON}))
    broken_agent = create_agent(client, alice, "broken")
    broken = submit_archive(client, alice, broken_agent, zip_files({"main.py": BROKEN}))
    idle = scrape(client)
    assert value(idle, "botarena_build_queue_depth") == 2
    assert value(idle, "botarena_match_queue_depth") == 0
    _orphan(session_factory, broken)

    live = settings.model_copy(
        update={
            "builds_enabled": True,
            "build_check_interval": 0.5,
            "matches_enabled": True,
            "match_lease_seconds": 4.0,
            "match_max_attempts": 2,
            "executor_capacity": 1,
            **backend_settings,
        }
    )
    with TestClient(create_app(live)) as server:
        before = scrape(server)
        assert value(before, "botarena_executor_slots_free") >= 1
        in_flight = "botarena_builds_in_flight"
        building = poll(server, lambda s: value(s, in_flight, backend="local") > 0)
        assert value(building, "botarena_build_queue_depth") <= 1
        assert wait_for_build(server, sub, seconds=120)["status"] == "success"
        assert wait_for_build(server, broken, seconds=120)["status"] == "build_failed"
        activated = server.post(f"/api/v1/submissions/{sub}/activate", headers=alice.headers)
        assert activated.status_code == 200, activated.text

        matches = {cause: _queue(server, alice, agent, clock) for cause, clock in MODES.items()}
        # The depth as each scrape reads it from the database, until a scrape sees a match in
        # flight and the executor's slot taken. The slot claims the next match while one
        # plays (both in flight then), so by that scrape the depth may already be 0 on a slow
        # machine; the first scrapes, right after the queueing, see the waiting ones.
        depths: list[float] = []
        slots = value(before, "botarena_executor_slots_free")

        def playing_now(samples: Samples) -> bool:
            depths.append(value(samples, "botarena_match_queue_depth"))
            return (
                value(samples, "botarena_matches_in_flight") >= 1
                and value(samples, "botarena_executor_slots_free") == slots - 1
            )

        playing = poll(server, playing_now)
        assert max(depths) >= 1, depths
        assert value(playing, "botarena_match_queue_depth") <= len(MODES) - 1
        ended = {cause: wait_for_end(server, m, seconds=60) for cause, m in matches.items()}
        assert {e["status"] for e in ended.values()} == {"finished"}, ended
        seconds = [e["agents"][1] for e in ended.values()]
        outcomes = [seat["outcome"] for seat in seconds]
        assert outcomes == ["TIMEOUT", "ERROR", "TIMEOUT", "INVALID"], seconds

        # Its code removed from under it: the executor refuses the match, which is handed
        # back, tried again, refused again, and ends ``error`` (counting for no one).
        _remove_artifact(session_factory, sub)
        lost = wait_for_end(server, _queue(server, alice, agent, 0.5), seconds=60)
        assert lost["status"] == "error" and lost["attempts"] == 2, lost

        bus = server.app.state.events  # type: ignore[attr-defined]
        subscription = bus.subscribe("metrics-test", lambda _: None)
        after = scrape(server)
        subscription.close()
        gone = scrape(server)

    # Builds: the orphan handed back and retried, then failed its validation; one succeeded.
    assert grew(idle, after, "botarena_lease_handbacks_total", queue="builds") == 1
    assert grew(idle, after, "botarena_retries_total", queue="builds") == 1
    success = {"outcome": "success", "reason": "none"}
    failed = {"outcome": "user_error", "reason": "validation_failed"}
    assert grew(idle, after, "botarena_build_duration_seconds_count", **success) == 1
    assert grew(idle, after, "botarena_build_duration_seconds_count", **failed) == 1
    assert grew(idle, after, "botarena_build_duration_seconds_sum", **success) > 0
    assert value(after, "botarena_build_queue_depth") == 0
    assert value(after, "botarena_builds_in_flight", backend="local") == 0

    # Matches: four recorded, with their durations by game, and each limit's kill; one lost.
    assert grew(idle, after, "botarena_matches_total", outcome="finished") == 4
    assert grew(idle, after, "botarena_matches_total", outcome="error") == 1
    assert grew(idle, after, "botarena_lease_handbacks_total", queue="matches") == 2
    assert grew(idle, after, "botarena_retries_total", queue="matches") == 1
    assert grew(idle, after, "botarena_match_duration_seconds_count", game="connectx") == 4
    assert value(after, "botarena_matches_in_flight") == 0
    for cause in ("time", "memory", "processes"):
        assert grew(idle, after, "botarena_sandbox_kills_total", cause=cause) == 1, cause
    # Validation matches count too: two for the chameleon's and the broken agent's builds.
    assert grew(idle, after, "botarena_agent_outcomes_total", status="TIMEOUT") == 2
    assert grew(idle, after, "botarena_agent_outcomes_total", status="INVALID") == 1
    assert grew(idle, after, "botarena_agent_outcomes_total", status="ERROR") >= 2
    assert grew(idle, after, "botarena_agent_outcomes_total", status="DONE") >= 6

    # Requests by route template, never by raw path.
    route = {"route": "/api/v1/matches/{match_id}", "method": "GET", "status": "200"}
    assert grew(idle, after, "botarena_http_requests_total", **route) >= 4
    latency = {"route": "/api/v1/matches/{match_id}", "method": "GET"}
    assert grew(idle, after, "botarena_http_request_duration_seconds_count", **latency) >= 4
    routes = {dict(labels).get("route") for (name, labels) in after if "http" in name}
    assert not any(m in str(routes) for m in matches.values()), routes

    listeners = "botarena_event_bus_listeners"
    assert value(after, listeners) - value(gone, listeners) == 1


@sqlite_only
def test_unknown_paths_share_one_label(client: TestClient) -> None:
    for path in ("/no/such/page-1", "/no/such/page-2"):
        assert client.get(path).status_code == 404
    samples = scrape(client)
    unmatched = {"route": "<unmatched>", "method": "GET", "status": "404"}
    assert value(samples, "botarena_http_requests_total", **unmatched) >= 2
    assert not any("page-1" in str(labels) for (_, labels) in samples)


def _remove_artifact(factory: SessionFactory, submission_id: str) -> None:
    with session_scope(factory) as session:
        row = session.get(Submission, submission_id)
        assert row is not None and row.artifact is not None
        code_dir = Artifact.from_json(row.artifact).code_dir
    assert code_dir is not None
    shutil.rmtree(code_dir)


def _queue(client: TestClient, account: Account, agent: str, clock: float) -> str:
    body = {
        "agent1Id": agent,
        "agent2Id": agent,
        "seed": 1,
        "config": {"actTimeout": clock, "overageTime": 0.5},
    }
    answer = client.post("/api/v1/matches", json=body, headers=account.headers)
    assert answer.status_code == 201, answer.text
    match_id: str = answer.json()["id"]
    return match_id
