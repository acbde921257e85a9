"""A finished ConnectX match's page in Debian's chromium: the replay played to its last move
names the API's winner, the page passes axe and the keyboard walk, and reads without
JavaScript as the replay's text rendering."""

from __future__ import annotations

import httpx
import pytest
from playwright.sync_api import Page, expect

from support.a11y import axe_check, keyboard_walk
from support.browser import Screenshot, WebServer
from support.match_pages import RED_WINS, finished_match, ready_agent


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_the_match_page_plays_its_replay_to_the_apis_result(
    page: Page, no_js_page: Page, web_server: WebServer, screenshot: Screenshot
) -> None:
    factory = web_server.session_factory
    admin = web_server.make_user("chief", admin=True)
    alice = web_server.make_user("alice")
    bob = web_server.make_user("bob")
    with httpx.Client(base_url=web_server.url, timeout=30) as client:
        red = ready_agent(client, factory, alice, "red-rover")
        yellow = ready_agent(client, factory, bob, "yellow-jacket")
        match = finished_match(client, factory, web_server.settings, admin, (red, yellow))
        api = client.get(f"/api/v1/matches/{match}").json()
        winner_id = api["agents"][api["winner"]]["agentId"]
        winner = client.get(f"/api/v1/agents/{winner_id}").json()["name"]
    assert winner == "red-rover"

    page.goto(f"/matches/{match}")
    expect(page.get_by_role("heading", level=1)).to_contain_text("red-rover vs yellow-jacket")
    page.wait_for_selector(".replay-ready")
    page.get_by_role("button", name="Last move").click()
    slider = page.get_by_label("Move", exact=True)
    assert slider.input_value() == str(len(RED_WINS))
    result = page.locator("[data-replay-result]")
    expect(result).to_be_visible()
    assert result.inner_text().startswith(f"Result: {winner} (Red) wins")
    # The page's own result sentence says the same.
    assert page.locator("#result").inner_text() == result.inner_text()
    axe_check(page)
    # The walk starts from the top of a freshly loaded page (the click left focus below).
    page.reload()
    page.wait_for_selector(".replay-ready")
    assert keyboard_walk(page)
    screenshot(page, "match")

    no_js_page.goto(f"/matches/{match}")
    text = no_js_page.locator("[data-replay-text]")
    expect(text).to_be_visible()
    board = no_js_page.locator("pre.replay-board-text").first.inner_text()
    assert board.count("[X]") == 4
    expect(text.locator(".replay-result")).to_contain_text(f"{winner} (Red) wins")
