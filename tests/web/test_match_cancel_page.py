"""The match page's Cancel button: shown to the match's creator and admins while it has not
ended, a form with the session's CSRF token that cancels it (the same rules as the API)."""

from __future__ import annotations

from fastapi.testclient import TestClient

from support.accounts import Account
from support.court import Court
from support.pages import page_of, sign_in
from support.rows import match_row


def test_the_creator_cancels_a_queued_match_from_its_page(
    court: Court, client: TestClient, alice: Account, bob: Account
) -> None:
    pair = (court.ready(alice, "page-a")[0], court.ready(bob, "page-b")[0])
    created = client.post(
        "/api/v1/matches", json={"agent1Id": pair[0], "agent2Id": pair[1]}, headers=alice.headers
    )
    match_id = created.json()["id"]
    action = f"/matches/{match_id}/cancel"

    assert not page_of(client.get(f"/matches/{match_id}")).all("form", action=action)
    assert client.post(action, data={}).status_code == 403  # no CSRF token: nothing changes
    assert match_row(court.factory, match_id).status == "queued"

    assert sign_in(client, "alice", "alice-password").status_code == 303
    page = page_of(client.get(f"/matches/{match_id}"))
    assert page.all("form", action=action)
    done = client.post(action, data={"csrf_token": page.csrf()}, follow_redirects=False)
    assert done.status_code == 303 and done.headers["location"] == f"/matches/{match_id}"
    assert match_row(court.factory, match_id).status == "cancelled"

    ended = page_of(client.get(f"/matches/{match_id}"))
    assert not ended.all("form", action=action)
    again = client.post(action, data={"csrf_token": ended.csrf()})
    assert again.status_code == 409
    assert "has ended already" in page_of(again).by_id("cancel-error").text
