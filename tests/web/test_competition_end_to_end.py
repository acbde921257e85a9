"""A Kaggle-style competition run end to end from the web UI alone, in Debian's chromium,
against a server with real builds, the ladder and a real executor: the organiser announces a
competition (upcoming), opens it, two teams join (one of two people, by its invite link) and
submit folders that are built and validated for real, the ladder ranks them, the organiser
closes submissions, starts the final evaluation, and its matches end in frozen standings that
the competition's page publishes. The API is only read, to wait and to check the pages."""

from __future__ import annotations

import re
import time
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from playwright.sync_api import Page, expect

from botarena.clock import utcnow

from support.browser import Contexts, NewContext, Screenshot, ServeWeb, WebServer, require_sandbox
from support.matches import RANDOM

# The ladder's and the finals' passes run here in the server's own threads, with real builds
# and matches, as nowhere else on PostgreSQL.
BOTH_DATABASES = True
PASSWORD = "correct horse battery staple"
LOCAL = "%Y-%m-%dT%H:%M"  # what a datetime-local field takes; the forms read it as UTC
SLUG = "winter-cup"


def _until(what: Callable[[], Any], timeout: float = 150) -> Any:
    deadline = time.monotonic() + timeout
    while True:
        found = what()
        if found or time.monotonic() > deadline:
            return found
        time.sleep(0.3)


def _signed_in(new_context: NewContext, server: WebServer, name: str) -> Page:
    page = new_context(server.url).new_page()
    page.goto("/login")
    page.get_by_label("Username").fill(name)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(f"{server.url}/")
    return page


def _enter_agent(page: Page, name: str, folder: Path) -> str:
    """From the competition's page: a new agent in it, a folder uploaded, built, activated."""
    page.goto(f"/competitions/{SLUG}")
    page.get_by_role("link", name="New agent in this competition").click()
    page.get_by_label("Name").fill(name)
    page.get_by_role("button", name="Create agent").click()
    expect(page.get_by_role("heading", level=1)).to_have_text(name)
    agent = page.url.rsplit("/", 1)[1]
    _upload(page, folder)
    page.get_by_role("link", name=name).first.click()
    page.get_by_role("button", name="Activate submission 1").click()
    expect(page.locator("#submissions .badge").first).to_have_text("active")
    return agent


def _upload(page: Page, folder: Path) -> None:
    page.set_input_files("#folder", folder)
    page.get_by_role("button", name="Upload folder").click()
    page.wait_for_url("**/submissions/*")
    expect(page.locator("#build-status .badge").first).to_have_text("success", timeout=150_000)


def _edit_dates(page: Page, **fields: str) -> None:
    page.goto(f"/competitions/{SLUG}")
    page.get_by_role("link", name="Edit the competition").click()
    for label, value in fields.items():
        page.get_by_label(label).fill(value)
    page.get_by_role("button", name="Save").click()
    page.wait_for_url(re.compile(rf"/competitions/{SLUG}$"))


@pytest.fixture
def arena(serve_web: ServeWeb) -> WebServer:
    """A server with build workers, the embedded executor, the ladder and the finals."""
    require_sandbox()
    return serve_web(
        builds_enabled=True,
        build_backend="local",
        build_check_interval=0.5,
        matches_enabled=True,
        match_lease_seconds=4.0,
        executor_capacity=2,
        ladder_enabled=True,
        ladder_interval=0.5,
        tournament_interval=0.5,
    )


@pytest.mark.parametrize(
    "database_url", ["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)], indirect=True
)
def test_an_organiser_runs_a_competition_from_announcement_to_frozen_standings(
    arena: WebServer,
    new_context: NewContext,
    browser_contexts: Contexts,
    screenshot: Screenshot,
    tmp_path: Path,
) -> None:
    for name in ("boss", "alice", "carol", "bob"):
        arena.make_user(name, admin=name == "boss", password=PASSWORD)
    folder = tmp_path / "random-bot"
    folder.mkdir()
    (folder / "main.py").write_bytes(RANDOM)
    api = httpx.Client(base_url=arena.url, timeout=30)
    now = utcnow()

    # Announced: visible, nobody may enter yet.
    boss = _signed_in(new_context, arena, "boss")
    boss.goto("/competitions")
    boss.get_by_role("button", name="New competition").click()
    boss.get_by_label("Title").fill("Winter Cup")
    boss.get_by_label("Game", exact=True).select_option("connectx")
    boss.get_by_label("Description (Markdown)").fill("Connect **four**; two a team.")
    boss.get_by_label("Opens").fill((now + timedelta(days=1)).strftime(LOCAL))
    boss.get_by_label("Submission deadline").fill((now + timedelta(days=10)).strftime(LOCAL))
    boss.get_by_label("Final evaluation ends").fill((now + timedelta(days=15)).strftime(LOCAL))
    boss.get_by_label("Submissions per team per UTC day (empty: no limit)").fill("3")
    boss.get_by_label("Submissions per team in the final").fill("1")
    boss.get_by_label("Team size (empty: no limit)").fill("2")
    boss.get_by_role("button", name="Create the competition").click()
    boss.wait_for_url(re.compile(rf"/competitions/{SLUG}$"))
    expect(boss.locator("#phase")).to_have_text("upcoming")
    competition = api.get(f"/api/v1/competitions/{SLUG}").json()

    # Opened: the organiser moves the opening date to now.
    _edit_dates(boss, Opens=(utcnow() - timedelta(minutes=2)).strftime(LOCAL))
    expect(boss.locator("#phase")).to_have_text("open")

    # alice's team of two: she joins, enters an agent, invites carol, who submits for it too.
    alice = _signed_in(new_context, arena, "alice")
    alice.goto(f"/competitions/{SLUG}")
    alice.get_by_role("button", name="Join").click()
    expect(alice.locator("#remaining")).to_contain_text("3 more times today")
    ours = _enter_agent(alice, "alices-bot", folder)
    alice.get_by_role("link", name=re.compile("alice")).and_(alice.locator("#agent-team")).click()
    alice.get_by_role("button", name="Make a new invite link").click()
    link = alice.get_by_role("textbox", name="Invite link").input_value()
    carol = _signed_in(new_context, arena, "carol")
    carol.goto(link)
    carol.get_by_role("button", name=re.compile("^Join ")).click()
    expect(carol.locator("#member-list")).to_contain_text("carol")
    carol.goto(f"/agents/{ours}")
    _upload(carol, folder)  # a member submits for the team's agent
    carol.goto(f"/competitions/{SLUG}")
    expect(carol.locator("#remaining")).to_contain_text("1 more time today")

    bob = _signed_in(new_context, arena, "bob")
    bob.goto(f"/competitions/{SLUG}")
    bob.get_by_role("button", name="Join").click()
    theirs = _enter_agent(bob, "bobs-bot", folder)

    # The ladder plays them against each other.
    board = f"/api/v1/competitions/{competition['id']}/leaderboard"

    def ranked() -> list[dict[str, Any]] | None:
        items: list[dict[str, Any]] = api.get(board).json()["items"]
        return items if len(items) == 2 and all(i["games"] >= 2 for i in items) else None

    assert _until(ranked), api.get(board).json()
    boss.goto(f"/competitions/{SLUG}")
    expect(boss.locator("#leaderboard")).to_contain_text("alices-bot")
    expect(boss.locator("#leaderboard")).to_contain_text("bobs-bot")

    # Closed: submissions refused with the deadline named; then the final evaluation.
    _edit_dates(boss, **{"Submission deadline": (utcnow() - timedelta(minutes=1)).strftime(LOCAL)})
    expect(boss.locator("#phase")).to_have_text("closed")
    bob.goto(f"/agents/{theirs}")
    browser_contexts.watch(bob.context).allow_console_error("status of 400")  # the refusal
    bob.set_input_files("#folder", folder)
    bob.get_by_role("button", name="Upload folder").click()
    expect(bob.locator("#new-submission, main").first).to_contain_text("closed at its deadline")
    boss.get_by_label("Rounds (each pair meets this many times in each seat)").fill("1")
    boss.get_by_role("button", name="Start the final evaluation").click()
    expect(boss.locator("#phase")).to_have_text(re.compile("final|frozen"))

    # The final's two matches (one in each seat) end in frozen standings, published.
    def frozen() -> bool:
        return bool(api.get(f"/api/v1/competitions/{SLUG}").json()["phase"] == "frozen")

    assert _until(frozen, timeout=180), api.get(f"/api/v1/competitions/{SLUG}").json()
    final = api.get(board).json()
    assert {row["agentId"] for row in final["items"]} == {ours, theirs}
    assert all(row["games"] == 2 for row in final["items"]), final
    for page in (boss, alice, bob):
        page.goto(f"/competitions/{SLUG}")
        expect(page.locator("#phase")).to_have_text("frozen")
        expect(page.locator("#phase").locator("..")).to_contain_text("since")  # no countdown
        expect(page.get_by_role("heading", name="Final standings")).to_be_visible()
        standings = page.locator("#leaderboard tbody tr")
        expect(standings).to_have_count(2)
        expect(standings.first).to_contain_text(final["items"][0]["agentName"])
    expect(alice.locator("#leaderboard")).to_contain_text("alice")  # the team's name
    screenshot(boss, "competition-frozen")
    api.close()
