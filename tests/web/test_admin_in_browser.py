"""The admin page in Debian's chromium: an admin signs in (sent there from /admin), pauses and
resumes a game's ladder, raises a queued build's priority, starts a round robin and finds it
listed; the page passes axe and the keyboard walk, works without JavaScript, and its
screenshot is taken ('admin')."""

from __future__ import annotations

import re

import httpx
import pytest
from playwright.sync_api import Page, expect

from botarena.agents.models import Submission
from botarena.ladder.service import LadderService
from botarena.tournaments.director import TournamentDirector
from botarena.tournaments.events import tournament_topic
from botarena.tournaments.models import Tournament

from support.a11y import axe_check, keyboard_walk
from support.accounts import Account
from support.browser import Contexts, Screenshot, WebServer
from support.competitors import UNPLAYED
from support.tournament_play import claim_queued, first_seat_wins, listening

sqlite_only = pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
PASSWORD = "correct horse battery staple"


def _agent_with_submission(server: WebServer, owner: Account, name: str) -> str:
    """A new connectx agent of ``owner`` and its (pending) submission's id."""
    agent = httpx.post(
        f"{server.url}/api/v1/agents",
        json={"name": name, "game": "connectx"},
        headers=owner.headers,
    )
    assert agent.status_code == 201, agent.text
    submitted = httpx.post(
        f"{server.url}/api/v1/submissions",
        json={"agentId": agent.json()["id"], "codeUrl": "https://git.example.com/a/b"},
        headers=owner.headers,
    )
    assert submitted.status_code == 201, submitted.text
    submission: str = submitted.json()["submission"]["id"]
    return submission


def _pretend_active(server: WebServer, submission_id: str) -> None:
    with server.session_factory() as session:
        row = session.get(Submission, submission_id)
        assert row is not None
        row.status, row.artifact = "active", UNPLAYED
        session.commit()


def _sign_in(page: Page, server: WebServer) -> None:
    """From /admin, through the sign-in form, back to /admin."""
    page.goto("/admin")
    page.wait_for_url(re.compile(r"/login\?next=/admin$"))
    page.get_by_label("Username").fill("boss")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(f"{server.url}/admin")


@sqlite_only
def test_an_admin_pauses_the_ladder_raises_a_build_and_starts_a_round_robin(
    page: Page, web_server: WebServer, screenshot: Screenshot
) -> None:
    web_server.make_user("boss", admin=True, password=PASSWORD)
    alice = web_server.make_user("alice")
    for name in ("red", "blue", "green"):
        _pretend_active(web_server, _agent_with_submission(web_server, alice, name))
    first = _agent_with_submission(web_server, alice, "early")
    later = _agent_with_submission(web_server, alice, "late")

    _sign_in(page, web_server)
    expect(page.get_by_role("heading", level=1)).to_have_text("Admin")
    expect(
        page.get_by_role("navigation", name="Main").get_by_role("link", name="Admin")
    ).to_be_visible()

    # The ladder: paused, then running again.
    ladder = page.locator("#ladder")
    page.get_by_role("button", name="Pause the ConnectX ladder").click()
    expect(ladder.get_by_role("status")).to_have_text("The connectx ladder is paused.")
    with web_server.session_factory() as session:
        assert LadderService(session).paused().paused_games == ["connectx"]
    page.get_by_role("button", name="Resume the ConnectX ladder").click()
    expect(ladder.get_by_role("status")).to_have_text("The connectx ladder is running.")
    state = httpx.get(f"{web_server.url}/api/v1/ladder").json()
    assert state["pausedGames"] == [] and not state["allPaused"]

    # The build queue: the later build raised above the earlier one.
    rows = page.locator("#build-queue tbody tr")
    expect(rows.first).to_contain_text(first)
    page.get_by_label("Priority of late version 1").fill("9")
    page.get_by_role("button", name="Set the priority of late version 1").click()
    expect(page.locator("#builds").get_by_role("status")).to_have_text(
        f"Submission {later} has priority 9 now."
    )
    expect(rows.first).to_contain_text(later)
    expect(page.get_by_label("Priority of late version 1")).to_have_value("9")
    with web_server.session_factory() as session:
        row = session.get(Submission, later)
        assert row is not None and row.priority == 9

    # A round robin of every active submission, listed with a link to its page.
    page.get_by_label("Game", exact=True).select_option("connectx")
    page.get_by_label("Format").select_option("round_robin")
    # The page that comes back opens its live stream (subscribed before its answer starts).
    with page.expect_response(lambda answer: "/live/admin" in answer.url):
        page.get_by_role("button", name="Create tournament").click()
    expect(page.locator("#tournaments").get_by_role("status")).to_contain_text("started")
    with web_server.session_factory() as session:
        tournament = session.query(Tournament).one()
        tid, entrants = tournament.id, len(tournament.entrants)
    assert entrants == 3
    listed = page.locator("#tournament-list")
    expect(listed.get_by_role("link", name=tid)).to_have_attribute("href", f"/tournaments/{tid}")
    expect(listed).to_contain_text("round robin")

    # The build queue follows new builds live (over SSE), without a reload.
    _agent_with_submission(web_server, alice, "newcomer")
    expect(page.locator("#build-queue")).to_contain_text("newcomer")

    axe_check(page)
    # Loaded afresh: after an action the URL names a section, where Tab would start.
    page.goto("/admin")
    assert keyboard_walk(page)
    screenshot(page, "admin")

    # The round robin's page: its standings fill as its matches finish, without a reload.
    page.locator("#tournament-list").get_by_role("link", name=tid).click()
    expect(page.locator("#progress")).to_contain_text("0 of 3 games decided")
    factory, settings = web_server.session_factory, web_server.settings
    listening(page, web_server.app.state.events, tournament_topic(tid))
    director = TournamentDirector(factory, settings)
    for decided in (1, 2, 3):
        first_seat_wins(factory, settings, claim_queued(factory, settings))
        director.tick()  # reads the round and draws the next
        expect(page.locator("#progress")).to_contain_text(f"{decided} of 3 games decided")
    points = page.locator("#standings-table tbody tr td:nth-child(4)")
    expect(points).to_have_text(["1", "1", "1"])  # each won the game it played first
    expect(page.locator("#progress")).to_contain_text("finished")


@sqlite_only
def test_the_admin_page_works_without_javascript_and_errors_show_beside_the_field(
    no_js_page: Page, web_server: WebServer, browser_contexts: Contexts
) -> None:
    web_server.make_user("boss", admin=True, password=PASSWORD)
    page = no_js_page
    # The refused form comes back with 400, which the browser notes in its console.
    browser_contexts.watch(page.context).allow_console_error("status of 400")
    _sign_in(page, web_server)
    page.get_by_role("button", name="Pause the Tic-tac-toe ladder").click()
    expect(page.locator("#ladder").get_by_role("status")).to_have_text(
        "The tictactoe ladder is paused."
    )
    # A user whose password is too short: the form comes back with the error beside it.
    page.get_by_label("Username", exact=True).fill("carol")
    page.get_by_label("Password", exact=True).fill("short")
    page.get_by_role("button", name="Create user").click()
    expect(page.locator("#new-password-error")).to_contain_text("at least 8")
    expect(page.get_by_label("Username", exact=True)).to_have_value("carol")
    expect(page.get_by_label("Password", exact=True)).to_have_value("")
    expect(page.get_by_label("Password", exact=True)).to_have_attribute("aria-invalid", "true")
