"""Competitions through the real API: admins create and change them, phases gate agents and
submissions, invite-only ones need their code, and the old paths play the default one."""

from __future__ import annotations

from datetime import timedelta

from fastapi.testclient import TestClient

from support.accounts import Account
from support.api import create_agent, submit_url
from support.competing import START, Clock, competition_agent, create_competition, dates


def test_only_admins_create_and_the_dates_must_follow_each_other(
    client: TestClient, admin: Account, alice: Account
) -> None:
    body = {"game": "connectx", "title": "Cup", **dates()}
    refused = client.post("/api/v1/competitions", json=body, headers=alice.headers)
    assert refused.status_code == 403
    backwards = {**body, "deadlineAt": body["finalEndsAt"], "finalEndsAt": body["deadlineAt"]}
    answer = client.post("/api/v1/competitions", json=backwards, headers=admin.headers)
    assert answer.status_code == 422
    assert "opensAt < deadlineAt < finalEndsAt" in answer.text
    bad_config = {**body, "configuration": {"rows": -3}}
    answer = client.post("/api/v1/competitions", json=bad_config, headers=admin.headers)
    assert answer.status_code == 422
    assert answer.json()["fields"][0]["field"] == "configuration"


def test_a_competition_is_created_listed_and_read_by_slug(
    client: TestClient, admin: Account, alice: Account, clock: Clock
) -> None:
    made = create_competition(
        client,
        admin,
        title="Spring Cup 2030",
        configuration={"rows": 5, "columns": 6},
        description="# Rules\n<script>x()</script> [bad](javascript:alert(1)) [ok](https://a.example)",
    )
    assert made["slug"] == "spring-cup-2030"
    assert made["phase"] == "upcoming"
    assert made["dailySubmissionLimit"] == 5
    assert made["finalSubmissionsPerTeam"] == 2
    assert made["joinCode"] is None
    assert made["nextDateLabel"] == "opens"
    html = made["descriptionHtml"]
    assert "<h1>Rules</h1>" in html and "<script>" not in html
    assert 'href="javascript' not in html and 'href="https://a.example"' in html
    read = client.get("/api/v1/competitions/spring-cup-2030").json()
    assert read["id"] == made["id"]
    assert read["configuration"] == {"rows": 5, "columns": 6}
    listed = [c["slug"] for c in client.get("/api/v1/competitions").json()]
    assert "spring-cup-2030" in listed
    audit = client.get(
        "/api/v1/audit", params={"action": "competition.created"}, headers=admin.headers
    )
    assert audit.json()["items"][0]["targetId"] == made["id"]


def test_phases_gate_agents_and_submissions(
    client: TestClient, admin: Account, alice: Account, clock: Clock
) -> None:
    made = create_competition(client, admin)
    upcoming = client.post(
        "/api/v1/agents",
        json={"name": "early", "competitionId": made["slug"]},
        headers=alice.headers,
    )
    assert upcoming.status_code == 400
    assert "not open yet" in upcoming.json()["error"]
    assert START.isoformat() in upcoming.json()["error"]

    clock.set(START + timedelta(hours=1))
    agent = competition_agent(client, alice, made["id"], "bot")
    shown = client.get(f"/api/v1/agents/{agent}").json()
    assert shown["competitionId"] == made["id"] and shown["game"] == "connectx"
    submit_url(client, alice, agent)
    wrong_game = client.post(
        "/api/v1/agents",
        json={"name": "x", "game": "tictactoe", "competitionId": made["id"]},
        headers=alice.headers,
    )
    assert wrong_game.status_code == 422

    clock.set(START + timedelta(days=10, seconds=1))
    late = client.post(
        "/api/v1/submissions",
        json={"agentId": agent, "codeUrl": "https://git.example.com/a/b"},
        headers=alice.headers,
    )
    assert late.status_code == 400
    assert made["deadlineAt"].replace("Z", "+00:00") in late.json()["error"]
    assert client.get(f"/api/v1/competitions/{made['id']}").json()["phase"] == "closed"


def test_the_daily_limit_counts_per_team_and_resets_at_utc_midnight(
    client: TestClient, admin: Account, alice: Account, clock: Clock
) -> None:
    made = create_competition(client, admin, dailySubmissionLimit=2)
    clock.set(START.replace(hour=23, minute=0))
    one = competition_agent(client, alice, made["id"], "one")
    two = competition_agent(client, alice, made["id"], "two")
    submit_url(client, alice, one)
    submit_url(client, alice, two)  # another agent of the same team: the same count
    over = client.post(
        "/api/v1/submissions",
        json={"agentId": one, "codeUrl": "https://git.example.com/a/b"},
        headers=alice.headers,
    )
    assert over.status_code == 429
    midnight = (START + timedelta(days=1)).replace(hour=0, minute=0)
    assert midnight.isoformat() in over.json()["message"]
    assert over.headers["Retry-After"] == str(3600 + 1)

    clock.set(midnight + timedelta(seconds=1))
    submit_url(client, alice, one)


def test_invite_only_needs_its_code_which_is_shown_once(
    client: TestClient, admin: Account, alice: Account, bob: Account, clock: Clock
) -> None:
    made = create_competition(client, admin, visibility="invite", title="Secret")
    code = made["joinCode"]
    assert code
    assert "joinCode" not in client.get(f"/api/v1/competitions/{made['id']}").json()
    assert made["slug"] not in [c["slug"] for c in client.get("/api/v1/competitions").json()]
    clock.set(START + timedelta(hours=1))
    refused = client.post(
        "/api/v1/agents", json={"name": "s", "competitionId": made["id"]}, headers=bob.headers
    )
    assert refused.status_code == 403
    # Nor does starting a team let a stranger in: a team is joined with the team's code.
    teams = f"/api/v1/competitions/{made['id']}/teams"
    stranger = client.post(teams, json={"name": "gatecrashers"}, headers=bob.headers)
    assert stranger.status_code == 403
    assert "invite-only" in stranger.json()["error"]
    wrong = client.post(
        f"/api/v1/competitions/{made['slug']}/join", json={"code": "nope"}, headers=bob.headers
    )
    assert wrong.status_code == 403
    joined = client.post(
        f"/api/v1/competitions/{made['slug']}/join", json={"code": code}, headers=bob.headers
    )
    assert joined.status_code == 200, joined.text
    assert joined.json()["teamId"]
    mine = client.get("/api/v1/competitions", headers=bob.headers).json()
    assert [c["isMember"] for c in mine if c["slug"] == "secret"] == [True]
    started = client.post(teams, json={"name": "insiders"}, headers=bob.headers)
    assert started.status_code == 201, started.text
    competition_agent(client, bob, made["id"], "s")
    assert made["slug"] not in [
        c["slug"] for c in client.get("/api/v1/competitions", headers=alice.headers).json()
    ]


def test_what_may_change_depends_on_the_phase(
    client: TestClient, admin: Account, clock: Clock
) -> None:
    made = create_competition(client, admin)
    path = f"/api/v1/competitions/{made['id']}"
    changed = client.patch(
        path, json={"configuration": {"rows": 7}, "title": "Renamed"}, headers=admin.headers
    )
    assert changed.status_code == 200, changed.text
    assert changed.json()["title"] == "Renamed"
    clock.set(START + timedelta(days=1))
    refused = client.patch(path, json={"configuration": {"rows": 5}}, headers=admin.headers)
    assert refused.status_code == 400
    assert "configuration" in refused.json()["error"]
    later = (START + timedelta(days=12)).isoformat()
    moved = client.patch(path, json={"deadlineAt": later}, headers=admin.headers)
    assert moved.status_code == 200, moved.text
    crossing = client.patch(path, json={"finalEndsAt": START.isoformat()}, headers=admin.headers)
    assert crossing.status_code == 422


def test_the_old_paths_play_the_default_competition(
    client: TestClient, alice: Account, clock: Clock
) -> None:
    agent = create_agent(client, alice, "plain")
    shown = client.get(f"/api/v1/agents/{agent}").json()
    default = client.get(f"/api/v1/competitions/{shown['competitionId']}").json()
    assert default["isDefault"] and default["game"] == "connectx"
    assert default["phase"] == "open"
    for _ in range(7):  # no daily limit there
        submit_url(client, alice, agent)
    board = client.get("/api/v1/leaderboard", params={"game": "connectx"}).json()
    assert board["competitionId"] == default["id"]
    assert [row["agentId"] for row in board["items"]] == []  # nothing active yet


def test_addresses_are_checked_and_some_are_kept_for_pages(
    client: TestClient, admin: Account
) -> None:
    body = {"game": "connectx", "title": "New", **dates()}
    for slug in ("new", "Upper", "cmp-123", "-dash"):
        answer = client.post(
            "/api/v1/competitions", json={**body, "slug": slug}, headers=admin.headers
        )
        assert answer.status_code == 422, (slug, answer.text)
    assert create_competition(client, admin, title="New")["slug"] == "competition-new"
    assert create_competition(client, admin, title="New")["slug"] == "competition-new-2"
    taken = client.post(
        "/api/v1/competitions", json={**body, "slug": "competition-new"}, headers=admin.headers
    )
    assert taken.status_code == 409
