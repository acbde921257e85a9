"""A finished ConnectX match for the match pages' tests: two agents, the match recorded as the
dispatcher records one, with the replay and the agents' logs the referee would leave."""

from __future__ import annotations

from typing import Any

import httpx

from botarena.agents.models import Submission
from botarena.db.engine import SessionFactory
from botarena.executor.outcomes import AgentOutcome, MatchResult, MatchStatus
from botarena.games.registry import get_game
from botarena.matches.queue import MatchQueue
from botarena.matches.recording import MatchRecorder
from botarena.ratings.hook import RatingsHook
from botarena.settings import Settings

from support.accounts import Account
from support.competitors import UNPLAYED
from support.replays import record

# Red (seat 0) drops in column 4 four times and wins; Yellow plays column 5.
RED_WINS = [3, 4, 3, 4, 3, 4, 3]


def ready_agent(client: httpx.Client, factory: SessionFactory, owner: Account, name: str) -> str:
    """A connectx agent of ``owner`` with an active submission (as if built)."""
    made = client.post(
        "/api/v1/agents", json={"name": name, "game": "connectx"}, headers=owner.headers
    )
    assert made.status_code == 201, made.text
    agent_id: str = made.json()["id"]
    body = {"agentId": agent_id, "codeUrl": "https://git.example.com/a/b"}
    sub = client.post("/api/v1/submissions", json=body, headers=owner.headers)
    assert sub.status_code == 201, sub.text
    with factory() as session:
        row = session.get(Submission, sub.json()["submission"]["id"])
        assert row is not None
        row.status, row.artifact = "active", UNPLAYED
        session.commit()
    return agent_id


def finished_match(
    client: httpx.Client,
    factory: SessionFactory,
    settings: Settings,
    admin: Account,
    pair: tuple[str, str],
    logs: tuple[str, str] = ("", ""),
) -> str:
    """A ranked match of ``pair`` that seat 0 won by ``RED_WINS``, recorded with its replay
    and logs by the match recorder."""
    created = client.post(
        "/api/v1/matches",
        json={"agent1Id": pair[0], "agent2Id": pair[1], "ranked": True},
        headers=admin.headers,
    )
    assert created.status_code == 201, created.text
    match_id: str = created.json()["id"]
    replay: dict[str, Any] = record(get_game("connectx"), RED_WINS)
    assert replay["winner"] == 0
    with factory() as session:
        match = MatchQueue(session, settings).claim_next("slot", "127.0.0.1:1")
        assert match is not None and match.id == match_id
        outcomes = [AgentOutcome(log=text) for text in logs]
        result = MatchResult(
            MatchStatus.FINISHED, 0, [1.0, 0.0], outcomes, len(RED_WINS), 50, replay
        )
        MatchRecorder(session, settings, RatingsHook()).record(match, result)
        session.commit()
    return match_id
