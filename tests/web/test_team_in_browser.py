"""Joining a team through its invite link in Debian's chromium: a member makes the link on
the team's page, another user opens it, signs in, confirms, and is a member; the pages are
accessible and their screenshots taken."""

from __future__ import annotations

import httpx
import pytest
from playwright.sync_api import Page, expect

from support.a11y import axe_check
from support.browser import Screenshot, WebServer

sqlite_only = pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
PASSWORD = "correct horse battery staple"


def _sign_in(page: Page, server: WebServer, name: str, then: str) -> None:
    page.get_by_label("Username").fill(name)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(f"{server.url}{then}")


@sqlite_only
def test_a_user_joins_a_team_through_its_invite_link(
    page: Page, web_server: WebServer, screenshot: Screenshot
) -> None:
    maria = web_server.make_user("maria", password=PASSWORD)
    web_server.make_user("tom", password=PASSWORD)
    made = httpx.post(
        f"{web_server.url}/api/v1/agents",
        json={"name": "marias-bot", "game": "connectx"},
        headers=maria.headers,
    )
    assert made.status_code == 201, made.text
    team_id = made.json()["teamId"]

    # Maria makes an invite link on her team's page.
    page.goto(f"/login?next=/teams/{team_id}")
    _sign_in(page, web_server, "maria", f"/teams/{team_id}")
    page.get_by_role("button", name="Make a new invite link").click()
    link = page.get_by_role("textbox", name="Invite link").input_value()
    expect(page.get_by_role("status")).to_contain_text("shown this once")
    axe_check(page)
    screenshot(page, "team-invite")
    page.get_by_role("button", name="Sign out").click()

    # Tom opens it: sign in first, then the confirmation, then the team's page.
    page.goto(link)
    page.wait_for_url(f"{web_server.url}/login?next=*")
    _sign_in(page, web_server, "tom", link.removeprefix(web_server.url))
    expect(page.get_by_role("heading", level=1)).to_have_text("Join a team")
    expect(page.locator("main")).to_contain_text("maria")
    axe_check(page)
    screenshot(page, "team-join")
    page.get_by_role("button", name="Join maria").click()
    page.wait_for_url(f"{web_server.url}/teams/{team_id}")
    expect(page.locator("#member-list")).to_contain_text("tom")
    expect(page.get_by_role("link", name="marias-bot")).to_be_visible()
    axe_check(page)
    # Tom, a member now, acts for the team's agent through the API too.
    members = httpx.get(f"{web_server.url}/api/v1/teams/{team_id}").json()["members"]
    assert [m["username"] for m in members] == ["maria", "tom"]
