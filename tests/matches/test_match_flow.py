"""Matches through the real path: the API queues, the dispatcher hands the match to an
executor over gRPC, and the result, replay and logs are recorded once — on both runners."""

from __future__ import annotations

import time

import pytest
from fastapi.testclient import TestClient

from botarena.agents.models import Submission
from botarena.app import create_app
from botarena.builds.backends.base import Artifact
from botarena.db.engine import SessionFactory, session_scope
from botarena.settings import Settings

from support.accounts import Account
from support.building import Built
from support.matches import RANDOM, wait_for_end

sqlite_only = pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
PRINTING = RANDOM + b"\nimport sys\nprint('printed by the agent', file=sys.stderr)\n"


@sqlite_only
def test_a_match_between_built_submissions(
    built: Built,
    playing: TestClient,
    alice: Account,
    bob: Account,
    admin: Account,
) -> None:
    alices, _ = built(alice, "alices-bot", {"main.py": PRINTING})
    bobs, bobs_sub = built(bob, "bobs-bot", {"main.py": RANDOM})

    answer = playing.post(
        "/api/v1/matches",
        json={"agent1Id": alices, "agent2Id": bobs, "seed": 3},
        headers=bob.headers,
    )
    assert answer.status_code == 201, answer.text
    created = answer.json()
    assert created["status"] == "queued" and created["game"] == "connectx"
    assert [a["agentId"] for a in created["agents"]] == [alices, bobs]
    assert created["agents"][1]["submissionId"] == bobs_sub

    match = wait_for_end(playing, created["id"])
    assert match["status"] == "finished", match
    assert [h["status"] for h in match["statusHistory"]] == ["queued", "running", "finished"]
    assert match["attempts"] == 1 and match["queuePosition"] is None
    assert [a["outcome"] for a in match["agents"]] == ["DONE", "DONE"]
    assert match["winner"] in (0, 1, None) and len(match["scores"]) == 2
    assert match["durationMs"] > 0

    replay = playing.get(f"/api/v1/matches/{match['id']}/replay")
    assert replay.status_code == 200
    assert replay.json()["configuration"]["rows"] == 6 and replay.json()["steps"]

    url = f"/api/v1/matches/{match['id']}/logs/0"
    assert "printed by the agent" in playing.get(url, headers=alice.headers).text
    assert "printed by the agent" in playing.get(url, headers=admin.headers).text
    assert playing.get(url, headers=bob.headers).status_code == 403
    assert playing.get(url).status_code == 403
    assert (
        playing.get(f"/api/v1/matches/{match['id']}/logs/1", headers=bob.headers).status_code == 200
    )

    listed = playing.get("/api/v1/matches", params={"agentId": alices}).json()
    assert [m["id"] for m in listed["items"]] == [match["id"]]


@sqlite_only
@pytest.mark.parametrize("backend_settings", ["local"], indirect=True)
def test_the_ladder_plays_and_the_leaderboard_fills(
    built: Built, play_settings: Settings, alice: Account, bob: Account
) -> None:
    built(alice, "ladder-a", {"main.py": RANDOM})
    built(bob, "ladder-b", {"main.py": RANDOM})
    built(bob, "ladder-c", {"main.py": RANDOM})
    settings = play_settings.model_copy(update={"ladder_enabled": True, "ladder_interval": 0.2})
    with TestClient(create_app(settings)) as app:
        deadline = time.monotonic() + 60
        rows: list[dict[str, object]] = []
        while time.monotonic() < deadline:
            rows = app.get("/api/v1/leaderboard", params={"game": "connectx"}).json()["items"]
            if sum(int(r["games"]) for r in rows) >= 12:  # type: ignore[call-overload]
                break
            time.sleep(0.2)
    assert len(rows) == 3
    assert all(int(r["games"]) > 0 for r in rows), rows  # type: ignore[call-overload]
    assert [r["rank"] for r in rows] == [1, 2, 3]


@sqlite_only
@pytest.mark.parametrize("backend_settings", ["local"], indirect=True)
def test_a_recorded_image_whose_digests_disagree_fails_its_match_once(
    built: Built,
    playing: TestClient,
    session_factory: SessionFactory,
    alice: Account,
    bob: Account,
) -> None:
    alices, _ = built(alice, "alices-pinned", {"main.py": RANDOM})
    bobs, bobs_sub = built(bob, "bobs-pinned", {"main.py": RANDOM})
    with session_scope(session_factory) as session:
        row = session.get(Submission, bobs_sub)
        assert row is not None
        row.artifact = Artifact(
            backend="kubernetes",
            image=f"registry.test/agent-{bobs}:{bobs_sub}-v1@sha256:{'a' * 64}",
            digest=f"sha256:{'b' * 64}",
        ).to_json()
        session.commit()
    answer = playing.post(
        "/api/v1/matches", json={"agent1Id": alices, "agent2Id": bobs}, headers=bob.headers
    )
    match = wait_for_end(playing, answer.json()["id"])
    assert (match["status"], match["attempts"]) == ("error", 1), match  # claimed once
