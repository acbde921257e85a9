"""Merging teams (both owners agreeing, only where and while the competition allows) and an
admin disbanding one, through the real API."""

from __future__ import annotations

from datetime import timedelta

from fastapi.testclient import TestClient
from httpx import Response

from botarena.clock import utcnow
from botarena.db.engine import SessionFactory

from support.accounts import Account, MakeUser
from support.api import create_agent
from support.court import Court
from support.teams import default_competition, team


def _team_of(client: TestClient, agent_id: str) -> str:
    team_id: str = client.get(f"/api/v1/agents/{agent_id}").json()["teamId"]
    return team_id


def _ask(client: TestClient, who: Account, team_id: str, into: str | None) -> Response:
    return client.post(f"/api/v1/teams/{team_id}/merge", json={"into": into}, headers=who.headers)


def _answer(client: TestClient, who: Account, team_id: str, from_id: str, accept: bool) -> Response:
    return client.post(
        f"/api/v1/teams/{team_id}/merge-requests/{from_id}",
        json={"accept": accept},
        headers=who.headers,
    )


def test_a_merge_before_the_deadline_moves_members_and_agents(
    client: TestClient, make_user: MakeUser, session_factory: SessionFactory, admin: Account
) -> None:
    alice, bob, carol = (make_user(n) for n in ("alice", "bob", "carol"))
    default_competition(session_factory, deadline_at=utcnow() + timedelta(days=1))
    reds, blues = create_agent(client, alice, "reds"), create_agent(client, bob, "blues")
    red, blue = _team_of(client, reds), _team_of(client, blues)

    # Only the asking team's owner asks; only the other owner answers.
    assert _ask(client, carol, blue, red).status_code == 403
    asked = _ask(client, bob, blue, red)
    assert asked.status_code == 200, asked.text
    assert asked.json()["mergeInto"] == red
    assert [r["teamId"] for r in team(client, red)["mergeRequests"]] == [blue]
    assert _answer(client, bob, red, blue, True).status_code == 403
    merged = _answer(client, alice, red, blue, True)
    assert merged.status_code == 200, merged.text

    body = team(client, red)
    assert [(m["username"], m["role"]) for m in body["members"]] == [
        ("alice", "owner"),
        ("bob", "member"),
    ]
    assert sorted(a["name"] for a in body["agents"]) == ["blues", "reds"]
    assert client.get(f"/api/v1/agents/{blues}").json()["teamName"] == "alice"
    assert client.get(f"/api/v1/teams/{blue}").status_code == 404
    # Bob acts for the team's agents, reds included.
    activated = client.post(
        "/api/v1/submissions",
        json={"agentId": reds, "codeUrl": "https://git.example.com/b/c"},
        headers=bob.headers,
    )
    assert activated.status_code == 201
    audit = client.get(
        "/api/v1/audit", params={"action": "team.merged"}, headers=admin.headers
    ).json()["items"]
    assert audit[0]["targetId"] == red
    assert sorted(audit[0]["details"]["agents"]) == sorted([blues])


def test_a_merge_is_refused_after_the_deadline_when_merges_are_off_and_over_the_size(
    client: TestClient, make_user: MakeUser, session_factory: SessionFactory
) -> None:
    alice, bob = make_user("alice"), make_user("bob")
    red = _team_of(client, create_agent(client, alice, "reds"))
    blue = _team_of(client, create_agent(client, bob, "blues"))

    default_competition(session_factory, deadline_at=utcnow() - timedelta(minutes=1))
    late = _ask(client, bob, blue, red)
    assert late.status_code == 400
    assert "before the competition's deadline" in late.json()["error"]

    default_competition(session_factory, deadline_at=None, team_merges=False)
    off = _ask(client, bob, blue, red)
    assert off.status_code == 400
    assert "does not allow team merges" in off.json()["error"]

    default_competition(session_factory, team_merges=True, max_team_size=1)
    big = _ask(client, bob, blue, red)
    assert big.status_code == 409

    # Asked while allowed, then the deadline passes: accepting is refused too.
    default_competition(session_factory, max_team_size=None)
    assert _ask(client, bob, blue, red).status_code == 200
    default_competition(session_factory, deadline_at=utcnow() - timedelta(seconds=1))
    assert _answer(client, alice, red, blue, True).status_code == 400
    assert client.get(f"/api/v1/teams/{blue}").status_code == 200
    # Declining clears the request.
    declined = _answer(client, alice, red, blue, False)
    assert declined.json()["mergeRequests"] == []


def test_an_admin_disbands_a_team_whose_agents_stop_playing(
    client: TestClient,
    make_user: MakeUser,
    session_factory: SessionFactory,
    admin: Account,
    court: Court,
) -> None:
    alice = make_user("alice")
    agent, submission = court.ready(alice, "reds")
    red = _team_of(client, agent)
    assert client.delete(f"/api/v1/teams/{red}", headers=alice.headers).status_code == 403
    gone = client.delete(f"/api/v1/teams/{red}", headers=admin.headers)
    assert gone.status_code == 200, gone.text
    assert gone.json()["members"] == []
    assert gone.json()["disbandedAt"] is not None
    # Nothing deleted: the agent and its submission stay, inactive, and only admins act.
    shown = client.get(f"/api/v1/submissions/{submission}").json()
    assert shown["status"] == "inactive"
    again = client.post(f"/api/v1/submissions/{submission}/activate", headers=alice.headers)
    assert again.status_code == 403
    assert client.get(f"/api/v1/agents/{agent}").json()["teamName"] == "alice"
    entry = client.get(
        "/api/v1/audit", params={"action": "team.disbanded"}, headers=admin.headers
    ).json()["items"][0]
    assert entry["details"]["stoppedAgents"] == [agent]
    assert entry["details"]["members"] == [alice.id]
    # Alice's next agent gets a new team of hers.
    fresh = create_agent(client, alice, "reds2")
    assert _team_of(client, fresh) != red
