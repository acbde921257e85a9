"""A match of four agents through the real path: the API queues it, the executor plays Hungry
Geese between four sandboxed processes, and the ranked result rates all four at once from
their full order (Plackett-Luce), as the API then shows."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient
from openskill.models import PlackettLuce

from botarena.db.engine import SessionFactory
from botarena.ratings.book import recompute

from support.accounts import Account
from support.building import Built
from support.matches import EXAMPLES, wait_for_end

GREEDY = (EXAMPLES / "geese-greedy" / "main.py").read_bytes()
# Never turns: with nothing to eat it starves when hunger first strikes.
STRAIGHT = b'def agent(observation, configuration):\n    return "NORTH"\n'


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
@pytest.mark.parametrize("backend_settings", ["local"], indirect=True)
def test_a_four_player_match_is_played_ranked_and_rated(
    built: Built,
    playing: TestClient,
    session_factory: SessionFactory,
    alice: Account,
    bob: Account,
    admin: Account,
) -> None:
    agents = [
        built(alice, "goose-a", {"main.py": GREEDY}, game="geese")[0],
        built(bob, "goose-b", {"main.py": STRAIGHT}, game="geese")[0],
        built(alice, "goose-c", {"main.py": GREEDY}, game="geese")[0],
        built(bob, "goose-d", {"main.py": STRAIGHT}, game="geese")[0],
    ]
    refused = playing.post(
        "/api/v1/matches", json={"agentIds": agents[:1] + agents}, headers=admin.headers
    )
    assert refused.status_code == 422, refused.text
    assert "2 to 4 agents, not 5" in refused.json()["error"]

    answer = playing.post(
        "/api/v1/matches",
        json={"agentIds": agents, "seed": 5, "ranked": True, "config": {"episodeSteps": 60}},
        headers=admin.headers,
    )
    assert answer.status_code == 201, answer.text
    created = answer.json()
    assert [a["agentId"] for a in created["agents"]] == agents
    assert [a["rank"] for a in created["agents"]] == [None] * 4

    match = wait_for_end(playing, created["id"])
    assert match["status"] == "finished", match
    assert [a["outcome"] for a in match["agents"]] == ["DONE"] * 4
    scores, ranks = match["scores"], [a["rank"] for a in match["agents"]]
    assert len(scores) == 4
    assert ranks == [1 + sum(other > mine for other in scores) for mine in scores]
    assert max(ranks) > 1  # the straight geese starve before the greedy ones
    assert ranks[0] < ranks[1] and ranks[2] < ranks[3]

    replay = playing.get(f"/api/v1/matches/{match['id']}/replay").json()
    assert len(replay["agents"]) == 4 and len(replay["steps"][0]["frame"]["geese"]) == 4

    # All four rated at once from the full order, as Plackett-Luce rates it.
    model = PlackettLuce()
    expected = model.rate([[model.rating()] for _ in agents], ranks=[float(r) for r in ranks])
    changes = playing.get(f"/api/v1/matches/{match['id']}/rating-changes").json()["items"]
    assert [c["player"] for c in changes] == [0, 1, 2, 3]
    for change, team in zip(changes, expected, strict=True):
        assert change["muAfter"] == pytest.approx(team[0].mu)
        assert change["sigmaAfter"] == pytest.approx(team[0].sigma)
    board = playing.get("/api/v1/leaderboard", params={"game": "geese"}).json()["items"]
    assert {row["agentId"] for row in board} == set(agents)
    by_agent = {row["agentId"]: row for row in board}
    for agent, rank in zip(agents, ranks, strict=True):
        row = by_agent[agent]
        alone = ranks.count(1) == 1
        assert (row["games"], row["wins"], row["draws"], row["losses"]) == (
            1,
            int(rank == 1 and alone),
            int(rank == 1 and not alone),
            int(rank != 1),
        )
    history = playing.get(f"/api/v1/agents/{agents[1]}/ratings").json()["items"]
    assert len(history) == 1 and history[0]["opponentName"].endswith("and 2 more")

    # Recomputed from history, the ratings come out the same to the last bit.
    with session_factory() as session:
        assert recompute(session) == 1
        session.commit()
    again = playing.get(f"/api/v1/matches/{match['id']}/rating-changes").json()["items"]
    assert again == changes
