"""Recording a finished match tells later stages through the finished-match hook, in two
steps around the stamp: locked before the match is finished, changed after."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import datetime

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from botarena.agents.models import Submission
from botarena.db.engine import SessionFactory
from botarena.executor import wire
from botarena.executor.outcomes import AgentOutcome, MatchResult, MatchStatus
from botarena.matches.models import Match
from botarena.matches.queue import MatchQueue
from botarena.matches.recording import MatchRecorder
from botarena.settings import Settings

from support.accounts import Account
from support.api import create_agent, submit_url

ARTIFACT = '{"backend": "local", "codeDir": "/nowhere", "envDir": null, "command": null}'


class SpyHook:
    """Writes down what it saw of the match at each step."""

    def __init__(self) -> None:
        self.seen: list[tuple[str, str, bool, int | None]] = []

    def prepare(self, session: Session, match: Match) -> Callable[[datetime], None]:
        self.seen.append(("prepare", match.status, match.finished_at is None, match.winner))

        def after(at: datetime) -> None:
            self.seen.append(("after", match.status, at == match.finished_at, match.winner))

        return after


def _active(client: TestClient, factory: SessionFactory, account: Account, name: str) -> str:
    agent = create_agent(client, account, name)
    sub = submit_url(client, account, agent)
    with factory() as session:
        row = session.get(Submission, sub)
        assert row is not None
        row.status, row.artifact = "active", ARTIFACT
        session.commit()
    return agent


@pytest.mark.parametrize("ranked", [True, False])
def test_the_hook_locks_before_the_stamp_and_changes_after(
    client: TestClient,
    session_factory: SessionFactory,
    settings: Settings,
    admin: Account,
    alice: Account,
    bob: Account,
    ranked: bool,
) -> None:
    one = _active(client, session_factory, alice, "one")
    two = _active(client, session_factory, bob, "two")
    body = {"agent1Id": one, "agent2Id": two, "ranked": ranked}
    created = client.post("/api/v1/matches", json=body, headers=admin.headers)
    assert created.status_code == 201, created.text
    hook = SpyHook()
    with session_factory() as session:
        match = MatchQueue(session, settings).claim_next("slot", "127.0.0.1:1")
        assert match is not None
        result = MatchResult(
            MatchStatus.FINISHED, 1, [0.0, 1.0], [AgentOutcome(), AgentOutcome()], 9, 50
        )
        MatchRecorder(session, settings, hook).record(match, result)
        session.commit()
    # Ranked or not, the hook hears of it (ratings decide what a scrimmage means to them).
    assert hook.seen == [("prepare", "running", True, None), ("after", "finished", True, 1)]
    assert client.get(f"/api/v1/matches/{created.json()['id']}").json()["status"] == "finished"


def test_recording_needs_a_hook(session_factory: SessionFactory, settings: Settings) -> None:
    with session_factory() as session, pytest.raises(TypeError, match="finished"):
        MatchRecorder(session, settings)  # type: ignore[call-arg]


def test_an_executors_replay_is_stored_as_it_came_once_it_parses(
    client: TestClient,
    session_factory: SessionFactory,
    settings: Settings,
    alice: Account,
    bob: Account,
) -> None:
    one = _active(client, session_factory, alice, "one")
    two = _active(client, session_factory, bob, "two")
    body = {"agent1Id": one, "agent2Id": two}
    match_id = client.post("/api/v1/matches", json=body, headers=alice.headers).json()["id"]
    message = wire.finished(
        MatchResult(MatchStatus.FINISHED, 0, [1.0, 0.0], [AgentOutcome(), AgentOutcome()], 3, 9)
    )
    # What no encoder of ours writes (its spacing, its key order), but valid JSON.
    message.replay_json = '{"steps":[[1, 2]],  "name": "connectx"}'
    with session_factory() as session:
        match = MatchQueue(session, settings).claim_next("slot", "127.0.0.1:1")
        assert match is not None
        MatchRecorder(session, settings, SpyHook()).record(match, wire.match_result(message))
        session.commit()
    replay = client.get(f"/api/v1/matches/{match_id}/replay")
    assert replay.text == '{"steps":[[1, 2]],  "name": "connectx"}'
    # A replay that is not JSON is refused before anything is written.
    message.replay_json = '{"steps": [1, 2'
    with pytest.raises(json.JSONDecodeError):
        wire.match_result(message)
