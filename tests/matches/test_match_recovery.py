"""Matches that go wrong: an executor killed mid-match, a lease that runs out, a result
reported twice, and an agent that crashes match after match."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.exc import OperationalError

from botarena.agents.models import Submission
from botarena.app import create_app
from botarena.clock import utcnow
from botarena.db.engine import SessionFactory
from botarena.executor.credentials import Identity
from botarena.executor.outcomes import AgentOutcome, MatchResult, MatchStatus
from botarena.matches.dispatcher import MatchDispatcher
from botarena.matches.models import Match
from botarena.matches.queue import MatchQueue
from botarena.ratings.hook import RatingsHook
from botarena.settings import Settings

from support.accounts import Account
from support.building import Built
from support.executors import authority
from support.matches import RANDOM, wait_for_end
from support.rows import match_row, submission_row

pytestmark = [
    pytest.mark.parametrize("database_url", ["sqlite"], indirect=True),
    pytest.mark.parametrize("backend_settings", ["local"], indirect=True),
]

SLOW = (
    b"import random, time\n"
    b"def agent(obs, conf):\n"
    b"    time.sleep(0.1)\n"
    b"    return random.choice([c for c in range(conf.columns) if obs.board[c] == 0])\n"
)
# Passes its validation match (12 steps) and crashes in every real one.
CRASHES_IN_MATCHES = (
    b"def agent(obs, conf):\n"
    b"    if conf.episodeSteps > 12:\n"
    b"        raise MemoryError('out of luck')\n"
    b"    return [c for c in range(conf.columns) if obs.board[c] == 0][0]\n"
)


# The dispatcher's certificate, for tests whose dispatcher reaches no executor.
_IDENTITY = Identity(b"", b"", b"")


class ExecutorProcess:
    """``botarena executor`` as a process of its own, on a free port, sharing the server's
    data folder (its artifacts and its authority)."""

    def __init__(self, data_dir: Path) -> None:
        authority(data_dir)
        environment = {**os.environ, "BOTARENA_DATA_DIR": str(data_dir)}
        self.process = subprocess.Popen(
            [sys.executable, "-m", "botarena", "executor", "--listen", "127.0.0.1:0"],
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            env=environment,
            text=True,
        )
        assert self.process.stdout is not None
        line = self.process.stdout.readline()
        # "botarena executor is serving at 127.0.0.1:PORT"
        self.address = "127.0.0.1:" + line.strip().rsplit(":", 1)[1]

    def kill(self) -> None:
        if self.process.poll() is None:
            os.kill(self.process.pid, signal.SIGKILL)
        self.process.wait(10)


@pytest.fixture
def two_executors(play_settings: Settings) -> Iterator[list[ExecutorProcess]]:
    started = [ExecutorProcess(play_settings.data_dir) for _ in range(2)]
    yield started
    for executor in started:
        executor.kill()


def test_an_executor_killed_mid_match_and_another_finishes_it(
    built: Built,
    play_settings: Settings,
    session_factory: SessionFactory,
    two_executors: list[ExecutorProcess],
    alice: Account,
) -> None:
    slow, _ = built(alice, "slowpoke", {"main.py": SLOW})
    settings = play_settings.model_copy(
        update={"executors": tuple(e.address for e in two_executors), "match_lease_seconds": 3.0}
    )
    with TestClient(create_app(settings)) as app:
        created = app.post(
            "/api/v1/matches", json={"agent1Id": slow, "agent2Id": slow}, headers=alice.headers
        ).json()
        running = None
        for _ in range(200):
            row = match_row(session_factory, created["id"])
            if row.status == "running" and row.executor:
                running = row.executor
                break
            time.sleep(0.05)
        assert running is not None, "the match never started"
        victim = next(e for e in two_executors if e.address == running)
        time.sleep(0.5)  # well into the match
        victim.kill()
        match = wait_for_end(app, created["id"], seconds=90)

    assert match["status"] == "finished", _reasons(session_factory, created["id"])
    assert match["attempts"] == 2, _reasons(session_factory, created["id"])
    history = [h["status"] for h in match["statusHistory"]]
    assert history == ["queued", "running", "queued", "running", "finished"]
    assert match_row(session_factory, created["id"]).executor != running
    assert [a["outcome"] for a in match["agents"]] == ["DONE", "DONE"]


def _reasons(factory: SessionFactory, match_id: str) -> list[tuple[str, str | None]]:
    """Each status the match went through and why, for a failure's message."""
    with factory() as session:
        match = session.get(Match, match_id)
        return [(e.status, e.reason) for e in match.status_events] if match else []


@pytest.fixture
def claimed(
    built: Built,
    play_settings: Settings,
    session_factory: SessionFactory,
    client: TestClient,
    alice: Account,
) -> str:
    """A match created through the API and claimed by dispatch slot ``slot-1``, whose
    executor never answers."""
    agent, _ = built(alice, "claimed", {"main.py": RANDOM})
    created = client.post(
        "/api/v1/matches", json={"agent1Id": agent, "agent2Id": agent}, headers=alice.headers
    ).json()
    with session_factory() as session:
        match = MatchQueue(session, play_settings).claim_next("slot-1", "127.0.0.1:1")
        assert match is not None
        assert match.id == created["id"]
        session.commit()
    match_id: str = created["id"]
    return match_id


def test_a_result_reported_twice_changes_nothing(
    claimed: str, play_settings: Settings, session_factory: SessionFactory, client: TestClient
) -> None:
    dispatcher = MatchDispatcher(session_factory, play_settings, [], _IDENTITY, RatingsHook())

    def result(winner: int) -> MatchResult:
        scores = [1.0, 0.0] if winner == 0 else [0.0, 1.0]
        return MatchResult(
            MatchStatus.FINISHED,
            winner,
            scores,
            [AgentOutcome(), AgentOutcome()],
            7,
            120,
            replay={"steps": [winner]},
        )

    dispatcher._finish("slot-1", claimed, result(0))
    first = client.get(f"/api/v1/matches/{claimed}").json()
    dispatcher._finish("slot-1", claimed, result(1))  # the same report, changed
    dispatcher._finish("slot-2", claimed, result(1))  # and from someone else
    again = client.get(f"/api/v1/matches/{claimed}").json()
    assert first == again
    assert again["winner"] == 0 and again["status"] == "finished"
    assert client.get(f"/api/v1/matches/{claimed}/replay").json() == {"steps": [0]}


def test_a_match_claimed_ahead_and_never_sent_goes_back_uncounted(
    claimed: str, play_settings: Settings, session_factory: SessionFactory, client: TestClient
) -> None:
    dispatcher = MatchDispatcher(session_factory, play_settings, [], _IDENTITY, RatingsHook())
    dispatcher._give_back("slot-2", claimed, "its slot stopped")  # not its holder: nothing
    assert client.get(f"/api/v1/matches/{claimed}").json()["status"] == "running"
    dispatcher._give_back("slot-1", claimed, "its slot stopped")
    body = client.get(f"/api/v1/matches/{claimed}").json()
    assert body["status"] == "queued" and body["attempts"] == 0
    with session_factory() as session:
        match = session.get(Match, claimed)
        assert match is not None and match.lease_owner is None and match.not_before is None


def test_a_result_is_recorded_with_the_next_claim_in_one_transaction(
    claimed: str,
    play_settings: Settings,
    session_factory: SessionFactory,
    client: TestClient,
    alice: Account,
) -> None:
    first = client.get(f"/api/v1/matches/{claimed}").json()
    agent = first["agents"][0]["agentId"]
    second = client.post(
        "/api/v1/matches", json={"agent1Id": agent, "agent2Id": agent}, headers=alice.headers
    ).json()["id"]
    dispatcher = MatchDispatcher(session_factory, play_settings, [], _IDENTITY, RatingsHook())
    result = MatchResult(
        MatchStatus.FINISHED, 1, [0.0, 1.0], [AgentOutcome(), AgentOutcome()], 7, 120
    )
    ahead = dispatcher._record("slot-1", "127.0.0.1:1", claimed, result, claim=True)
    assert ahead is not None and ahead.match_id == second
    assert client.get(f"/api/v1/matches/{claimed}").json()["status"] == "finished"
    with session_factory() as session:
        match = session.get(Match, second)
        assert match is not None
        assert (match.status, match.lease_owner, match.attempts) == ("running", "slot-1", 1)


def test_a_claim_ends_a_match_whose_code_is_gone_and_sends_the_seats_built_code(
    claimed: str,
    play_settings: Settings,
    session_factory: SessionFactory,
    client: TestClient,
    alice: Account,
) -> None:
    seat = client.get(f"/api/v1/matches/{claimed}").json()["agents"][0]
    body = {"agent1Id": seat["agentId"], "agent2Id": seat["agentId"]}
    gone = client.post("/api/v1/matches", json=body, headers=alice.headers).json()["id"]
    with session_factory() as session:
        submission = session.get(Submission, seat["submissionId"])
        assert submission is not None and submission.artifact is not None
        artifact, submission.artifact = submission.artifact, None
        session.commit()
    dispatcher = MatchDispatcher(session_factory, play_settings, [], _IDENTITY, RatingsHook())
    assert dispatcher._claim("slot-2", "127.0.0.1:1") is None
    ended = client.get(f"/api/v1/matches/{gone}").json()
    assert ended["status"] == "error"
    with session_factory() as session:
        row = session.get(Match, gone)
        assert row is not None and row.error == (
            f"submission {seat['submissionId']} has no built code now"
        )
        submission = session.get(Submission, seat["submissionId"])
        assert submission is not None
        submission.artifact = artifact
        session.commit()
    playable = client.post("/api/v1/matches", json=body, headers=alice.headers).json()["id"]
    claim = dispatcher._claim("slot-2", "127.0.0.1:1")
    assert claim is not None and claim.match_id == playable
    assert [agent.submission_id for agent in claim.spec.agents] == [seat["submissionId"]] * 2
    assert all(agent.code_dir for agent in claim.spec.agents)


def test_an_expired_lease_sends_the_match_back(
    claimed: str, play_settings: Settings, session_factory: SessionFactory, client: TestClient
) -> None:
    with session_factory() as session:
        match = session.get(Match, claimed)
        assert match is not None
        match.lease_until = utcnow()
        session.commit()
    dispatcher = MatchDispatcher(session_factory, play_settings, [], _IDENTITY, RatingsHook())
    assert dispatcher.reconcile() == 1
    body = client.get(f"/api/v1/matches/{claimed}").json()
    assert body["status"] == "queued" and body["attempts"] == 1


def test_an_agent_that_crashes_five_matches_in_a_row_fails(
    built: Built,
    playing: TestClient,
    session_factory: SessionFactory,
    alice: Account,
    bob: Account,
) -> None:
    crasher, crasher_sub = built(alice, "crasher", {"main.py": CRASHES_IN_MATCHES})
    steady, _ = built(bob, "steady", {"main.py": RANDOM})
    ids = []
    for _ in range(5):
        answer = playing.post(
            "/api/v1/matches", json={"agent1Id": crasher, "agent2Id": steady}, headers=bob.headers
        )
        assert answer.status_code == 201, answer.text
        ids.append(answer.json()["id"])
        if len(ids) < 5:
            assert submission_row(session_factory, crasher_sub).status == "active"
        match = wait_for_end(playing, ids[-1])
        assert match["agents"][0]["outcome"] == "ERROR" and match["winner"] == 1
    row = submission_row(session_factory, crasher_sub)
    assert row.status == "failed"
    status = playing.get(f"/api/v1/submissions/{crasher_sub}/build-status").json()
    assert status["errorMessage"].startswith("failed: the agent crashed in its last 5 matches")
    assert "MemoryError" in status["errorMessage"]
    # Its owner can build it again.
    rebuilt = playing.post(f"/api/v1/submissions/{crasher_sub}/rebuild", headers=alice.headers)
    assert rebuilt.status_code == 200, rebuilt.text


def test_a_database_that_stops_answering_for_a_moment_costs_the_match_nothing(
    built: Built,
    play_settings: Settings,
    alice: Account,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """PostgreSQL restarting mid-match: a heartbeat's renewal and the first try to record the
    result fail; the match plays on, its result is recorded at the next try, and no attempt
    is spent on it."""
    patient, _ = built(alice, "patient", {"main.py": SLOW})
    outage = {"_renew": 1, "_finish_in": 1}

    def failing(name: str) -> Any:
        real = getattr(MatchDispatcher, name)

        def call(self: MatchDispatcher, *args: Any, **kwargs: Any) -> Any:
            if outage[name]:
                outage[name] -= 1
                raise OperationalError(
                    "SELECT 1", {}, Exception("the server closed the connection")
                )
            return real(self, *args, **kwargs)

        return call

    for name in outage:
        monkeypatch.setattr(MatchDispatcher, name, failing(name))
    with TestClient(create_app(play_settings)) as app:
        created = app.post(
            "/api/v1/matches",
            json={"agent1Id": patient, "agent2Id": patient},
            headers=alice.headers,
        ).json()
        match = wait_for_end(app, created["id"], seconds=90)

    assert outage == {"_renew": 0, "_finish_in": 0}, "the outage did not happen mid-match"
    assert match["status"] == "finished" and match["attempts"] == 1, match["statusHistory"]
