"""Teams through the real API: a team of three acting for its agent, a stranger refused, the
size limit, one team per user per competition, leaving, and the audit log."""

from __future__ import annotations

from fastapi.testclient import TestClient

from botarena.agents.models import Submission
from botarena.agents.status import SubmissionStatus
from botarena.db.engine import SessionFactory
from botarena.settings import Settings
from botarena.storage import build_log_path, match_dir

from support.accounts import Account, MakeUser
from support.api import create_agent, submit_url
from support.court import Court
from support.teams import create_team, default_competition, join, team


def _finish_build(factory: SessionFactory, submission_id: str, log: str) -> None:
    with factory() as session:
        row = session.get(Submission, submission_id)
        assert row is not None
        row.move_to(SubmissionStatus.BUILDING)
        row.move_to(SubmissionStatus.SUCCESS)
        row.build_log = log
        session.commit()


def test_a_team_of_three_acts_for_its_agent_and_a_stranger_is_refused(
    client: TestClient,
    make_user: MakeUser,
    session_factory: SessionFactory,
    settings: Settings,
    court: Court,
) -> None:
    alice, bob, carol, dave = (make_user(n) for n in ("alice", "bob", "carol", "dave"))
    competition = default_competition(session_factory)
    made = create_team(client, alice, competition, "Red Giants")
    assert made["invitePath"].startswith("/teams/join?code=")
    for member in (bob, carol):
        assert join(client, member, made["inviteCode"]).status_code == 200
    team_id = made["team"]["id"]
    agent = create_agent(client, alice, "giant")
    shown = client.get(f"/api/v1/agents/{agent}").json()
    assert (shown["teamId"], shown["teamName"]) == (team_id, "Red Giants")
    assert [m["username"] for m in team(client, team_id)["members"]] == ["alice", "bob", "carol"]
    assert [a["id"] for a in team(client, team_id)["agents"]] == [agent]

    for member in (alice, bob, carol):
        sub = submit_url(client, member, agent)
        _finish_build(session_factory, sub, f"built for {member.username}")
        log = client.get(f"/api/v1/submissions/{sub}/build-logs", headers=member.headers)
        assert log.status_code == 200, log.text
        assert log.json()["buildLog"] == f"built for {member.username}"
        activated = client.post(f"/api/v1/submissions/{sub}/activate", headers=member.headers)
        assert activated.status_code == 200, activated.text
        assert activated.json()["status"] == "active"
        # The code's address is private to the team: each member sees it.
        seen = client.get(f"/api/v1/submissions/{sub}", headers=carol.headers).json()
        assert seen["codeUrl"] is not None

    # A stranger: refused as before teams, for every action.
    refused = client.post(
        "/api/v1/submissions",
        json={"agentId": agent, "codeUrl": "https://git.example.com/d/e"},
        headers=dave.headers,
    )
    assert refused.status_code == 403, refused.text
    assert (
        client.post(f"/api/v1/submissions/{sub}/deactivate", headers=dave.headers).status_code
        == 403
    )
    assert (
        client.post(f"/api/v1/submissions/{sub}/rebuild", headers=dave.headers).status_code == 403
    )
    assert (
        client.get(f"/api/v1/submissions/{sub}/build-logs", headers=dave.headers).status_code == 404
    )
    assert client.get(f"/api/v1/submissions/{sub}", headers=dave.headers).json()["codeUrl"] is None

    # Match logs: the team's members read their agent's, the stranger does not.
    other, _ = court.ready(dave, "daves")
    match = court.play((agent, other), 0)
    logs = match_dir(settings, match)
    logs.mkdir(parents=True, exist_ok=True)
    (logs / "player-0.log").write_text("giant thinking")
    for member in (bob, carol):
        read = client.get(f"/api/v1/matches/{match}/logs/0", headers=member.headers)
        assert read.status_code == 200
        assert read.text == "giant thinking"
    assert client.get(f"/api/v1/matches/{match}/logs/0", headers=dave.headers).status_code == 403
    assert build_log_path(settings, sub).parent  # the log lives beside the submission


def test_a_full_team_refuses_a_member_with_the_limit_in_the_message(
    client: TestClient, make_user: MakeUser, session_factory: SessionFactory
) -> None:
    alice, bob, carol = (make_user(n) for n in ("alice", "bob", "carol"))
    competition = default_competition(session_factory, max_team_size=2)
    made = create_team(client, alice, competition, "Pair")
    assert join(client, bob, made["inviteCode"]).status_code == 200
    full = join(client, carol, made["inviteCode"])
    assert full.status_code == 409
    assert "full" in full.json()["error"]
    assert "at most 2" in full.json()["message"]
    assert len(team(client, made["team"]["id"])["members"]) == 2


def test_one_team_per_user_per_competition(
    client: TestClient, make_user: MakeUser, session_factory: SessionFactory
) -> None:
    alice, bob = make_user("alice"), make_user("bob")
    competition = default_competition(session_factory)
    red = create_team(client, alice, competition, "Red")
    # Alone in a team without agents: making another moves her (the first one goes).
    blue = create_team(client, alice, competition, "Blue")
    assert client.get(f"/api/v1/teams/{red['team']['id']}").status_code == 404
    # Bob with an agent of his own: he must leave or merge first.
    create_agent(client, bob, "bobs")
    refused = join(client, bob, blue["inviteCode"])
    assert refused.status_code == 409
    assert "already in team bob" in refused.json()["error"]
    again = client.post(
        f"/api/v1/competitions/{competition}/teams", json={"name": "Green"}, headers=bob.headers
    )
    assert again.status_code == 409
    # A taken name (whatever its case), an unknown code, an unknown competition.
    taken = client.post(
        f"/api/v1/competitions/{competition}/teams", json={"name": "bLUE"}, headers=bob.headers
    )
    assert taken.status_code == 409
    assert join(client, bob, "not-a-code").status_code == 404
    nowhere = client.post(
        "/api/v1/competitions/cmp-nope/teams", json={"name": "X"}, headers=bob.headers
    )
    assert nowhere.status_code == 404
    # The database keeps it too: bob is in exactly one team there.
    mine = client.get("/api/v1/teams/mine", headers=bob.headers).json()
    assert [t["name"] for t in mine] == ["bob"]
    listed = client.get(f"/api/v1/competitions/{competition}/teams").json()
    assert (listed["total"], [t["name"] for t in listed["items"]]) == (2, ["Blue", "bob"])


def test_leaving_hands_ownership_on_and_the_last_member_of_a_team_with_agents_stays(
    client: TestClient, make_user: MakeUser, session_factory: SessionFactory, admin: Account
) -> None:
    alice, bob = make_user("alice"), make_user("bob")
    competition = default_competition(session_factory)
    made = create_team(client, alice, competition, "Red")
    team_id = made["team"]["id"]
    join(client, bob, made["inviteCode"])
    create_agent(client, alice, "reds")
    left = client.post(f"/api/v1/teams/{team_id}/leave", headers=alice.headers)
    assert left.status_code == 200, left.text
    assert [(m["username"], m["role"]) for m in left.json()["members"]] == [("bob", "owner")]
    # Alice is out: the team's agent is no longer hers to act for.
    agent = team(client, team_id)["agents"][0]["id"]
    refused = client.post(
        "/api/v1/submissions",
        json={"agentId": agent, "codeUrl": "https://git.example.com/a/b"},
        headers=alice.headers,
    )
    assert refused.status_code == 403
    last = client.post(f"/api/v1/teams/{team_id}/leave", headers=bob.headers)
    assert last.status_code == 409
    assert "last member" in last.json()["error"]
    # The owner renames; a member who is not the owner cannot.
    renamed = client.patch(
        f"/api/v1/teams/{team_id}", json={"name": "Crimson"}, headers=bob.headers
    )
    assert renamed.json()["name"] == "Crimson"
    assert (
        client.patch(
            f"/api/v1/teams/{team_id}", json={"name": "X"}, headers=alice.headers
        ).status_code
        == 403
    )
    # A member gets a new invite code; the old one stops.
    fresh = client.post(f"/api/v1/teams/{team_id}/invite-code", headers=bob.headers)
    assert fresh.status_code == 200
    assert join(client, alice, made["inviteCode"]).status_code == 404
    assert (
        client.post(f"/api/v1/teams/{team_id}/invite-code", headers=alice.headers).status_code
        == 403
    )
    assert join(client, alice, fresh.json()["inviteCode"]).status_code == 200

    actions = client.get(
        "/api/v1/audit", params={"targetId": team_id}, headers=admin.headers
    ).json()["items"]
    assert {a["action"] for a in actions} == {"team.created", "team.joined", "team.left"}
