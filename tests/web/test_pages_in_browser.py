"""The pages in Debian's chromium: accessible (axe), usable with the keyboard alone, readable
without JavaScript, nothing loaded from outside the server, and a screenshot of each.

The screenshots go to ``BOTARENA_SCREENSHOTS`` when it is set (``docs/screenshots/``)."""

from __future__ import annotations

import re

import httpx
import pytest
from playwright.sync_api import Page, expect

from botarena.agents.service import AgentService
from botarena.builds.validation import keep_validation
from botarena.executor.outcomes import AgentOutcome, MatchResult, MatchStatus
from botarena.games.registry import get_game
from botarena.storage import validation_match_path

from support.a11y import axe_check, keyboard_walk
from support.browser import NewContext, Screenshot, ServeWeb, WebServer
from support.match_pages import RED_WINS, finished_match, ready_agent
from support.page_watch import PageWatch
from support.replays import record

sqlite_only = pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
PASSWORD = "correct horse battery staple"


def _agents_on_the_board(server: WebServer) -> None:
    """Three agents on the board, two of which have played ranked matches (rated, with a
    rating history), as a participant finds a board."""
    factory, settings = server.session_factory, server.settings
    alice = server.make_user("alice", password=PASSWORD)
    bob = server.make_user("bob")
    admin = server.make_user("chief", admin=True)
    with httpx.Client(base_url=server.url, timeout=30) as client:
        bold = ready_agent(client, factory, alice, "bold")
        steady = ready_agent(client, factory, bob, "steady")
        ready_agent(client, factory, alice, "newcomer")
        for _ in range(2):
            finished_match(client, factory, settings, admin, (bold, steady))


@sqlite_only
@pytest.mark.parametrize(
    ("path", "name", "heading"),
    [
        ("/", "home", "botarena"),
        ("/games/connectx", "leaderboard-connectx", "ConnectX"),
        ("/login", "sign-in", "Sign in"),
        ("/matches", "matches", "Matches"),
        ("/tournaments", "tournaments", "Tournaments"),
    ],
)
def test_a_page_is_accessible_and_usable_with_the_keyboard(
    page: Page,
    no_js_page: Page,
    web_server: WebServer,
    screenshot: Screenshot,
    path: str,
    name: str,
    heading: str,
) -> None:
    _agents_on_the_board(web_server)
    page.goto(path)
    expect(page.get_by_role("heading", level=1)).to_contain_text(heading)
    axe_check(page)
    stops = keyboard_walk(page)
    assert stops, "nothing on the page takes the keyboard's focus"
    screenshot(page, name)
    # The same page without JavaScript: the same heading and content.
    no_js_page.goto(path)
    expect(no_js_page.get_by_role("heading", level=1)).to_contain_text(heading)


@sqlite_only
def test_signing_in_with_the_keyboard_alone(page: Page, web_server: WebServer) -> None:
    web_server.make_user("bob", password=PASSWORD)
    page.goto("/login")
    page.get_by_label("Username").focus()
    page.keyboard.type("bob")
    page.keyboard.press("Tab")
    page.keyboard.type(PASSWORD)
    page.keyboard.press("Enter")
    page.wait_for_url(f"{web_server.url}/")
    expect(page.get_by_role("navigation", name="Main")).to_contain_text("bob")


@sqlite_only
def test_a_wrong_password_comes_back_with_the_error_beside_the_field(
    page: Page, page_watch: PageWatch, web_server: WebServer
) -> None:
    # The form comes back with 401, which the browser notes in its console.
    page_watch.allow_console_error("status of 401")
    web_server.make_user("carol", password=PASSWORD)
    page.goto("/login")
    page.get_by_label("Username").fill("carol")
    page.get_by_label("Password").fill("not the password")
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("main")).to_contain_text("password")
    axe_check(page)


@sqlite_only
def test_the_agent_and_submission_pages_are_accessible_and_usable_with_the_keyboard(
    page: Page, no_js_page: Page, web_server: WebServer, screenshot: Screenshot
) -> None:
    """An agent with a rating history (its chart) and a built submission with its validation
    match (a replay viewer), as their owner sees them and without JavaScript."""
    factory, settings = web_server.session_factory, web_server.settings
    owner = web_server.make_user("dora", password=PASSWORD)
    rival = web_server.make_user("ed")
    admin = web_server.make_user("chief", admin=True)
    with httpx.Client(base_url=web_server.url, timeout=30) as client:
        agent = ready_agent(client, factory, owner, "patient")
        other = ready_agent(client, factory, rival, "hasty")
        for _ in range(3):
            finished_match(client, factory, settings, admin, (agent, other))
    sub_id = _active_submission(web_server, agent)
    replay = record(get_game("connectx"), RED_WINS)
    outcomes = [AgentOutcome(log="thinking"), AgentOutcome()]
    result = MatchResult(MatchStatus.FINISHED, 0, [1.0, -1.0], outcomes, 7, 300, replay)
    keep_validation(validation_match_path(settings, sub_id), result)

    page.goto("/login")
    page.get_by_label("Username").fill("dora")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(f"{web_server.url}/")
    for path, name, heading in (
        (f"/agents/{agent}", "agent", "patient"),
        (f"/submissions/{sub_id}", "submission", "patient"),
    ):
        page.goto(path)
        expect(page.get_by_role("heading", level=1)).to_contain_text(heading)
        if name == "agent":
            expect(page.get_by_role("img", name=re.compile("^Score of patient"))).to_be_visible()
        else:
            page.wait_for_selector(".replay-ready")
        axe_check(page)
        assert keyboard_walk(page)
        screenshot(page, name)
        no_js_page.goto(path)
        expect(no_js_page.get_by_role("heading", level=1)).to_contain_text(heading)


def _active_submission(server: WebServer, agent_id: str) -> str:
    with server.session_factory() as session:
        sub = AgentService(session).get(agent_id).submissions[0]
        return sub.id


@sqlite_only
def test_the_sign_up_and_new_agent_forms_are_accessible_and_usable_with_the_keyboard(
    serve_web: ServeWeb, new_context: NewContext, screenshot: Screenshot
) -> None:
    server = serve_web(signup="open")
    page = new_context(server.url).new_page()
    page.goto("/signup")
    expect(page.get_by_role("heading", level=1)).to_contain_text("Sign up")
    axe_check(page)
    assert keyboard_walk(page)
    screenshot(page, "sign-up")
    no_js = new_context(server.url, javascript=False).new_page()
    no_js.goto("/signup")
    expect(no_js.get_by_role("heading", level=1)).to_contain_text("Sign up")

    server.make_user("erin", password=PASSWORD)
    page.goto("/login?next=/agents/new")
    page.get_by_label("Username").fill("erin")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(f"{server.url}/agents/new")
    expect(page.get_by_role("heading", level=1)).to_contain_text("New agent")
    axe_check(page)
    assert keyboard_walk(page)
    screenshot(page, "new-agent")
