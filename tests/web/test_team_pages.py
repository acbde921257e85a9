"""The team pages: joining through an invite link (confirmed by a CSRF-protected form), the
team's page for members, its owner, strangers and admins, /me's list and the agent page's
link, and the leaderboard's team column."""

from __future__ import annotations

from fastapi.testclient import TestClient

from botarena.db.engine import SessionFactory

from support.accounts import MakeUser
from support.api import create_agent
from support.pages import page_of, sign_in
from support.teams import create_team, default_competition, team


def test_an_invite_link_asks_first_then_joins(
    client: TestClient, make_user: MakeUser, session_factory: SessionFactory
) -> None:
    alice = make_user("alice")
    make_user("bob", password="bob-password")
    made = create_team(client, alice, default_competition(session_factory), "Red <b>")
    link = made["invitePath"]
    # Signed out: to sign in first, and back to the link after.
    away = client.get(link, follow_redirects=False)
    assert away.status_code == 303
    assert away.headers["location"].startswith("/login?next=%2Fteams%2Fjoin%3Fcode%3D")
    assert sign_in(client, "bob", "bob-password").status_code == 303
    page = page_of(client.get(link))
    assert "Red <b>" in page.text  # shown as text
    assert "<b>" not in client.get(link).text.replace("&lt;b&gt;", "")
    assert (
        team(client, made["team"]["id"])["members"][-1]["username"] == "alice"
    )  # GET joins no one
    form = page.all("form", action="/teams/join")[0]
    assert form is not None
    # Without the session's CSRF token: refused, nothing changes.
    forged = client.post("/teams/join", data={"code": made["inviteCode"]})
    assert forged.status_code == 403
    joined = client.post(
        "/teams/join",
        data={"csrf_token": page.csrf(), "code": made["inviteCode"]},
        follow_redirects=False,
    )
    assert joined.status_code == 303
    assert joined.headers["location"] == f"/teams/{made['team']['id']}"
    assert [m["username"] for m in team(client, made["team"]["id"])["members"]] == [
        "alice",
        "bob",
    ]
    # A wrong code: the page says so.
    wrong = client.get("/teams/join", params={"code": "nope"})
    assert wrong.status_code == 404
    assert "No team has this invite code" in page_of(wrong).text


def test_the_team_page_shows_members_the_invite_form_and_owners_the_rest(
    client: TestClient, make_user: MakeUser
) -> None:
    make_user("alice", password="alice-password")
    carol = make_user("carol")  # a stranger to alice, through the API only
    agent = create_agent(client, carol, "carols")
    team_id = client.get(f"/api/v1/agents/{agent}").json()["teamId"]

    signed_out = page_of(client.get(f"/teams/{team_id}"))
    assert "carols" in signed_out.text and "carol (owner)" in signed_out.text
    assert not [f for f in signed_out.all("form") if "/teams/" in f.attrs.get("action", "")]
    assert sign_in(client, "alice", "alice-password").status_code == 303
    stranger = page_of(client.get(f"/teams/{team_id}"))
    assert not [f for f in stranger.all("form") if "/teams/" in f.attrs.get("action", "")]
    refused = client.post(f"/teams/{team_id}/invite", data={"csrf_token": stranger.csrf()})
    assert refused.status_code == 403

    # The agent page names its team, linked.
    agent_page = page_of(client.get(f"/agents/{agent}"))
    assert agent_page.all("a", id="agent-team")[0].attrs["href"] == f"/teams/{team_id}"
    # Alice is in no team.
    me = page_of(client.get("/me"))
    assert me.all("ul", id="team-list") == []


def test_a_member_makes_an_invite_link_renames_and_leaves_through_the_pages(
    client: TestClient, make_user: MakeUser, session_factory: SessionFactory
) -> None:
    alice = make_user("alice", password="alice-password")
    made = create_team(client, alice, default_competition(session_factory), "Red")
    team_id = made["team"]["id"]
    assert sign_in(client, "alice", "alice-password").status_code == 303
    page = page_of(client.get(f"/teams/{team_id}"))
    actions = {f.attrs.get("action") for f in page.all("form")}
    assert {f"/teams/{team_id}/invite", f"/teams/{team_id}/leave"} <= actions
    assert f"/teams/{team_id}/rename" in actions  # the owner's
    fresh = client.post(f"/teams/{team_id}/invite", data={"csrf_token": page.csrf()})
    assert fresh.status_code == 200
    assert fresh.headers["cache-control"] == "no-store"
    link = page_of(fresh).all("input", id="invite-link")[0].attrs["value"]
    assert "/teams/join?code=" in link
    assert client.get(f"/teams/{team_id}").text.count(link) == 0  # shown once
    renamed = client.post(
        f"/teams/{team_id}/rename",
        data={"csrf_token": page.csrf(), "name": "Crimson"},
        follow_redirects=False,
    )
    assert renamed.status_code == 303
    me = page_of(client.get("/me"))
    assert "Crimson" in me.all("ul", id="team-list")[0].text
    left = client.post(
        f"/teams/{team_id}/leave", data={"csrf_token": page.csrf()}, follow_redirects=False
    )
    assert left.status_code == 303 and left.headers["location"] == "/me#teams"
    assert client.get(f"/api/v1/teams/{team_id}").status_code == 404  # no agents: it went


def test_owners_merge_and_an_admin_disbands_through_the_pages(
    client: TestClient, make_user: MakeUser, session_factory: SessionFactory
) -> None:
    alice = make_user("alice", password="alice-password")
    bob = make_user("bob", password="bob-password")
    make_user("root", admin=True, password="root-password")
    competition = default_competition(session_factory)
    red = create_team(client, alice, competition, "Red")["team"]["id"]
    blue = create_team(client, bob, competition, "Blue")["team"]["id"]
    create_agent(client, bob, "blues")

    assert sign_in(client, "bob", "bob-password").status_code == 303
    page = page_of(client.get(f"/teams/{blue}"))
    options = [o.attrs.get("value") for o in page.all("option")]
    assert red in options and blue not in options
    asked = client.post(
        f"/teams/{blue}/merge",
        data={"csrf_token": page.csrf(), "into": red},
        follow_redirects=False,
    )
    assert asked.status_code == 303
    assert "asked to merge into" in page_of(client.get(f"/teams/{blue}")).text
    client.post("/logout", data={"csrf_token": page.csrf()})

    assert sign_in(client, "alice", "alice-password").status_code == 303
    page = page_of(client.get(f"/teams/{red}"))
    assert "Blue (1 member) asks to merge into this team." in page.text
    accepted = client.post(
        f"/teams/{red}/merge-requests/{blue}",
        data={"csrf_token": page.csrf(), "accept": "yes"},
        follow_redirects=False,
    )
    assert accepted.status_code == 303
    merged = page_of(client.get(f"/teams/{red}"))
    assert "bob" in merged.by_id("member-list").text
    assert "blues" in merged.by_id("agent-list").text
    assert not [f for f in merged.all("form") if f.attrs.get("action", "").endswith("/disband")]
    client.post("/logout", data={"csrf_token": merged.csrf()})

    assert sign_in(client, "root", "root-password").status_code == 303
    page = page_of(client.get(f"/teams/{red}"))
    gone = client.post(
        f"/teams/{red}/disband", data={"csrf_token": page.csrf()}, follow_redirects=False
    )
    assert gone.status_code == 303
    after = page_of(client.get(f"/teams/{red}"))
    assert "Disbanded" in after.text and "No members." in after.text
    assert "blues" in after.by_id("agent-list").text  # nothing deleted
