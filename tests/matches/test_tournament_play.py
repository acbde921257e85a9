"""A tournament played for real inside a server: built agents, the dispatcher, the executor
over gRPC, and the tournament director moving it round by round to its end."""

from __future__ import annotations

import time
from typing import Any

import pytest
from fastapi.testclient import TestClient

from botarena.app import create_app
from botarena.settings import Settings

from support.accounts import Account
from support.building import Built
from support.matches import RANDOM


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
@pytest.mark.parametrize("backend_settings", ["local"], indirect=True)
def test_a_round_robin_is_played_to_its_end(
    built: Built, play_settings: Settings, alice: Account, bob: Account, admin: Account
) -> None:
    subs = [
        built(who, f"rr-{i}", {"main.py": RANDOM})[1] for i, who in enumerate((alice, bob, bob))
    ]
    settings = play_settings.model_copy(update={"tournament_interval": 0.2})
    with TestClient(create_app(settings)) as app:
        started = app.post(
            "/api/v1/tournaments",
            json={"game": "connectx", "format": "round_robin", "gamesPerPairing": 2},
            headers=admin.headers,
        )
        assert started.status_code == 201, started.text
        url = f"/api/v1/tournaments/{started.json()['id']}"
        deadline = time.monotonic() + 60
        shown: dict[str, Any] = {}
        while time.monotonic() < deadline:
            shown = app.get(url).json()
            if shown["status"] == "finished":
                break
            time.sleep(0.2)
    assert shown["status"] == "finished", shown["progress"]
    assert {s["submissionId"] for s in shown["standings"]} == set(subs)
    assert shown["progress"]["gamesDecided"] == 6 and shown["currentRound"] == 3
    assert sum(s["points"] for s in shown["standings"]) == 6
    games = [g for r in shown["schedule"] for p in r["pairings"] for g in p["games"]]
    assert len(games) == 6 and all(g["matchStatus"] == "finished" for g in games)
