"""An unknown game, or a plug-in that is not usable, refused through every API that takes a
game, with the registry's sentence whole (a trailing quote included)."""

from __future__ import annotations

import httpx
import pytest
from fastapi.testclient import TestClient

from support.accounts import Account
from support.api import create_agent
from support.plugins import FakeEntryPoint, MiniGame, install

# The plug-in says it is "mini" where its entry point says "tiny": the sentence ends in a quote.
MESSAGE = "Game entry point 'tiny' (mini_pkg:MiniGame) has id 'mini', not 'tiny'"


@pytest.fixture(autouse=True)
def _mislabelled_plugin(monkeypatch: pytest.MonkeyPatch) -> None:
    install(monkeypatch, FakeEntryPoint("tiny", "mini_pkg:MiniGame", lambda: MiniGame))


def _refused(answer: httpx.Response) -> None:
    assert answer.status_code == 422, answer.text
    assert answer.json() == {"error": MESSAGE, "fields": [{"field": "game", "message": MESSAGE}]}


def test_the_lists_and_the_leaderboard(client: TestClient) -> None:
    _refused(client.get("/api/v1/agents", params={"game": "tiny"}))
    _refused(client.get("/api/v1/tournaments", params={"game": "tiny"}))
    _refused(client.get("/api/v1/leaderboard", params={"game": "tiny"}))


def test_the_ladder_switches(client: TestClient, admin: Account) -> None:
    _refused(client.post("/api/v1/ladder/pause", params={"game": "tiny"}, headers=admin.headers))
    assert client.get("/api/v1/ladder").json() == {"allPaused": False, "pausedGames": []}


def test_a_match_and_a_tournament(client: TestClient, alice: Account, admin: Account) -> None:
    a, b = create_agent(client, alice, "one"), create_agent(client, alice, "two")
    body = {"agent1Id": a, "agent2Id": b, "game": "tiny"}
    _refused(client.post("/api/v1/matches", json=body, headers=alice.headers))
    tournament = {"game": "tiny", "format": "round_robin"}
    _refused(client.post("/api/v1/tournaments", json=tournament, headers=admin.headers))
    assert client.get("/api/v1/matches").json()["total"] == 0
    assert client.get("/api/v1/tournaments").json()["total"] == 0
