"""Agents: creation rules, names, games, visibility."""

from __future__ import annotations

from fastapi.testclient import TestClient

from support.accounts import Account


def test_create_and_read_agent(client: TestClient, alice: Account) -> None:
    answer = client.post(
        "/api/v1/agents", json={"name": "Negamax", "game": "connectx"}, headers=alice.headers
    )
    assert answer.status_code == 201
    agent = answer.json()
    assert set(agent) == {
        "id",
        "name",
        "game",
        "competitionId",
        "ownerId",
        "teamId",
        "teamName",
        "createdAt",
    }
    assert agent["id"].startswith("agt-") and len(agent["id"]) <= 32
    assert agent["ownerId"] == alice.id and agent["game"] == "connectx"
    # Public: readable without a token, with its (empty) submissions.
    detail = client.get(f"/api/v1/agents/{agent['id']}").json()
    assert detail["name"] == "Negamax" and detail["submissions"] == []
    assert detail["activeSubmissionId"] is None
    listed = client.get("/api/v1/agents", params={"name": "negamax"}).json()
    assert [a["id"] for a in listed["items"]] == [agent["id"]]


def test_every_known_game_is_accepted(client: TestClient, alice: Account) -> None:
    for game in ("connectx", "tictactoe", "rps"):
        answer = client.post(
            "/api/v1/agents", json={"name": f"a-{game}", "game": game}, headers=alice.headers
        )
        assert answer.status_code == 201, answer.text
    by_game = client.get("/api/v1/agents", params={"game": "rps"}).json()
    assert [a["name"] for a in by_game["items"]] == ["a-rps"]


def test_unknown_game_is_refused(client: TestClient, alice: Account) -> None:
    answer = client.post(
        "/api/v1/agents", json={"name": "x", "game": "chess"}, headers=alice.headers
    )
    assert answer.status_code == 422
    assert answer.json()["error"] == (
        "Unknown game 'chess'; known games: connectx, geese, rps, tictactoe"
    )
    assert answer.json()["fields"] == [{"field": "game", "message": answer.json()["error"]}]
    assert client.get("/api/v1/agents").json()["total"] == 0


def test_names_are_unique_regardless_of_case(
    client: TestClient, alice: Account, bob: Account
) -> None:
    first = client.post(
        "/api/v1/agents", json={"name": "Rocky", "game": "rps"}, headers=alice.headers
    )
    assert first.status_code == 201
    again = client.post(
        "/api/v1/agents", json={"name": "rocky", "game": "rps"}, headers=bob.headers
    )
    assert again.status_code == 409
    assert again.json() == {"error": "Agent name rocky is already taken"}
    assert client.get("/api/v1/agents").json()["total"] == 1


def test_bad_names_are_refused(client: TestClient, alice: Account) -> None:
    for name in ("-lead", "with space", "semi;colon", "x" * 65, "../up", "ünï"):
        answer = client.post(
            "/api/v1/agents", json={"name": name, "game": "rps"}, headers=alice.headers
        )
        assert answer.status_code == 422, name
    assert client.get("/api/v1/agents").json()["total"] == 0


def test_creating_needs_a_token(client: TestClient) -> None:
    answer = client.post("/api/v1/agents", json={"name": "anon", "game": "rps"})
    assert answer.status_code == 401
    assert client.get("/api/v1/agents").json()["total"] == 0


def test_missing_agent_is_404(client: TestClient) -> None:
    answer = client.get("/api/v1/agents/agt-000000000000000000000000")
    assert answer.status_code == 404
    assert answer.json() == {"error": "Agent not found"}
