"""A single-elimination tournament's page in Debian's chromium: its rounds show their matches
running, and its standings, bracket and rounds fill live as they finish and the director
moves it on; the page passes axe and the keyboard walk, and without JavaScript it shows the
standings and the bracket."""

from __future__ import annotations

import httpx
import pytest
from playwright.sync_api import Page, expect

from botarena.tournaments.director import TournamentDirector
from botarena.tournaments.events import tournament_topic

from support.a11y import axe_check, keyboard_walk
from support.browser import Screenshot, WebServer
from support.match_pages import ready_agent
from support.tournament_play import claim_queued, first_seat_wins, listening

NAMES = ("ash", "birch", "cedar", "elm", "fir", "hazel")  # six: the top two seeds get byes


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_the_standings_fill_live_as_the_matches_finish(
    page: Page, no_js_page: Page, web_server: WebServer, screenshot: Screenshot
) -> None:
    factory, settings = web_server.session_factory, web_server.settings
    admin = web_server.make_user("chief", admin=True)
    alice = web_server.make_user("alice")
    with httpx.Client(base_url=web_server.url, timeout=30) as client:
        for name in NAMES:
            ready_agent(client, factory, alice, name)
        created = client.post(
            "/api/v1/tournaments",
            json={"game": "connectx", "format": "single_elimination", "seed": 7},
            headers=admin.headers,
        )
        assert created.status_code == 201, created.text
        tournament_id = created.json()["id"]
        api_url = f"/api/v1/tournaments/{tournament_id}"

        page.goto(f"/tournaments/{tournament_id}")
        expect(page.get_by_role("heading", level=1)).to_have_text("ConnectX single elimination")
        expect(page.locator("#progress")).to_contain_text("0 of 5 games decided")
        points = page.locator("#standings-table tbody tr td:nth-child(4)")
        assert set(points.all_inner_texts()) == {"0"}
        listening(page, web_server.app.state.events, tournament_topic(tournament_id))

        director = TournamentDirector(factory, settings)
        first_round = claim_queued(factory, settings)
        assert len(first_round) == 2
        # The rounds show their matches running (the matches' own topics).
        expect(page.locator("#rounds .badge-running")).to_have_count(2)
        first_seat_wins(factory, settings, first_round)
        director.tick()  # reads them and draws the semi-finals
        expect(page.locator("#progress")).to_contain_text("2 of 5 games decided")
        shown = client.get(api_url).json()
        names = [line["agentName"] for line in shown["standings"]]
        expect(page.locator("#standings-table tbody th")).to_have_text(names)
        assert sorted(points.all_inner_texts()) == ["0", "0", "0", "0", "1", "1"]
        expect(page.locator("#rounds h3")).to_have_text(
            ["Quarter-finals (round 1)", "Semi-finals (round 2)"]
        )
        named = {line["submissionId"]: line["agentName"] for line in shown["standings"]}
        for semi in shown["bracket"][1]["pairings"]:
            expect(page.locator("#bracket-list")).to_contain_text(
                f"{named[semi['a']]} vs {named[semi['b']]}: not decided yet"
            )

        while shown["status"] == "running":
            first_seat_wins(factory, settings, claim_queued(factory, settings))
            director.tick()
            shown = client.get(api_url).json()
        champion = shown["standings"][0]["agentName"]
        expect(page.locator("#champion")).to_have_text(f"Winner: {champion}")
        expect(page.locator("#progress")).to_contain_text("finished")
        expect(page.locator("#standings-table tbody th")).to_have_text(
            [line["agentName"] for line in shown["standings"]]
        )
        expect(page.locator("#standings-table tbody tr").first).to_contain_text("Won the final")

    axe_check(page)
    page.reload()
    assert keyboard_walk(page)
    screenshot(page, "tournament")

    no_js_page.goto(f"/tournaments/{tournament_id}")
    expect(no_js_page.locator("#standings-table tbody th")).to_have_text(
        [line["agentName"] for line in shown["standings"]]
    )
    expect(
        no_js_page.get_by_role("img", name="Bracket of ConnectX single elimination")
    ).to_be_visible()
    expect(no_js_page.locator("#bracket-list")).to_contain_text(f"{champion} goes through")
    expect(no_js_page.locator("#champion")).to_have_text(f"Winner: {champion}")
