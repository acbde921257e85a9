"""The organiser's path in Debian's chromium: an admin creates a competition with the form,
lands on its page (open, its Markdown rendered), finds it in the list from the main
navigation, and a player joins it; the pages pass axe ('competition' screenshot)."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from playwright.sync_api import Page, expect

from botarena.clock import utcnow

from support.a11y import axe_check
from support.browser import Screenshot, WebServer

sqlite_only = pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
PASSWORD = "correct horse battery staple"
LOCAL = "%Y-%m-%dT%H:%M"


def _sign_in(page: Page, server: WebServer, name: str, then: str) -> None:
    page.goto(f"/login?next={then}")
    page.get_by_label("Username").fill(name)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(f"{server.url}{then}")


@sqlite_only
def test_an_organiser_creates_a_competition_and_finds_it_listed(
    page: Page, web_server: WebServer, screenshot: Screenshot
) -> None:
    web_server.make_user("boss", admin=True, password=PASSWORD)
    web_server.make_user("player", password=PASSWORD)
    now = utcnow()
    _sign_in(page, web_server, "boss", "/competitions")
    page.get_by_role("button", name="New competition").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("New competition")
    page.get_by_label("Title").fill("Browser Cup")
    page.get_by_label("Game", exact=True).select_option("connectx")
    page.get_by_label("Description (Markdown)").fill("## How to win\n\nConnect **four**.")
    page.get_by_label("Opens").fill((now - timedelta(hours=1)).strftime(LOCAL))
    page.get_by_label("Submission deadline").fill((now + timedelta(days=10)).strftime(LOCAL))
    page.get_by_label("Final evaluation ends").fill((now + timedelta(days=15)).strftime(LOCAL))
    page.get_by_role("button", name="Create the competition").click()

    page.wait_for_url(re.compile(r"/competitions/browser-cup$"))
    expect(page.get_by_role("heading", level=1)).to_have_text("Browser Cup")
    expect(page.locator("#phase")).to_have_text("open")
    expect(page.get_by_role("heading", name="How to win")).to_be_visible()
    expect(page.locator(".description strong")).to_have_text("four")
    expect(page.get_by_role("link", name="Edit the competition")).to_be_visible()
    axe_check(page)

    page.get_by_role("navigation", name="Main").get_by_role("link", name="Competitions").click()
    page.wait_for_url(f"{web_server.url}/competitions")
    row = page.locator("#competitions tbody tr", has_text="Browser Cup")
    expect(row).to_contain_text("open")
    expect(row).to_contain_text("deadline")
    axe_check(page)

    # A player joins from the competition's page.
    page.context.clear_cookies()
    _sign_in(page, web_server, "player", "/competitions/browser-cup")
    page.get_by_role("button", name="Join").click()
    expect(page.get_by_role("heading", name=re.compile("Your team"))).to_be_visible()
    expect(page.locator("#remaining")).to_contain_text("5 more times today")
    screenshot(page, "competition")
