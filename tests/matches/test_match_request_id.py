"""The request that created a match is on the match's log lines everywhere: the dispatcher's,
and the executor's, to which it travels as gRPC metadata."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from support.accounts import Account
from support.building import Built
from support.logs import captured_log, log_lines
from support.matches import RANDOM, wait_for_end

pytestmark = [
    pytest.mark.parametrize("database_url", ["sqlite"], indirect=True),
    pytest.mark.parametrize("backend_settings", ["local"], indirect=True),
]

REQUEST_ID = "abc-made-the-match.42"


def test_the_executor_logs_a_match_under_the_request_that_made_it(
    built: Built, playing: TestClient, alice: Account
) -> None:
    agent, _ = built(alice, "traced", {"main.py": RANDOM})
    with captured_log() as stream:
        created = playing.post(
            "/api/v1/matches",
            json={"agent1Id": agent, "agent2Id": agent},
            headers={**alice.headers, "X-Request-ID": REQUEST_ID},
        )
        assert created.status_code == 201, created.text
        match_id = created.json()["id"]
        assert wait_for_end(playing, match_id)["status"] == "finished"
    lines = [line for line in log_lines(stream) if line.get("match_id") == match_id]
    executor = [line for line in lines if line["logger"].startswith("botarena.executor")]
    assert {line["event"] for line in executor} >= {"match started", "match finished"}, lines
    assert {line.get("request_id") for line in lines} == {REQUEST_ID}, lines
