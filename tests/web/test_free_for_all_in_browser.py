"""A finished, ranked four-player Hungry Geese match in Debian's chromium: the page names the
four agents with the places the API gives them, the replay draws four geese told apart by
their letters and ends on the places, the leaderboard lists all four with the winner on top,
the pages pass axe, and the match reads without JavaScript."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from playwright.sync_api import Page, expect

from botarena.agents.models import Submission
from botarena.db.engine import SessionFactory
from botarena.executor.outcomes import AgentOutcome, MatchResult, MatchStatus
from botarena.games.geese import HungryGeese
from botarena.matches.queue import MatchQueue
from botarena.matches.recording import MatchRecorder
from botarena.ratings.hook import RatingsHook

from support.a11y import axe_check, keyboard_walk
from support.accounts import Account
from support.browser import Screenshot, WebServer
from support.competitors import UNPLAYED
from support.replays import record

NAMES = ("honk", "waddle", "gander", "plume")
CONFIG = {"episodeSteps": 30}
SEED = 11
# Each goose keeps its own direction: it never turns back, and geese meet or eat by chance.
HEADINGS = ("NORTH", "EAST", "SOUTH", "WEST")


def _goose(client: httpx.Client, factory: SessionFactory, owner: Account, name: str) -> str:
    body: dict[str, str] = {"name": name, "game": "geese"}
    made = client.post("/api/v1/agents", json=body, headers=owner.headers)
    assert made.status_code == 201, made.text
    agent_id: str = made.json()["id"]
    body = {"agentId": agent_id, "codeUrl": "https://git.example.com/a/b"}
    sub = client.post("/api/v1/submissions", json=body, headers=owner.headers)
    assert sub.status_code == 201, sub.text
    with factory() as session:
        row = session.get(Submission, sub.json()["submission"]["id"])
        assert row is not None
        row.status, row.artifact = "active", UNPLAYED
        session.commit()
    return agent_id


def _replay() -> dict[str, Any]:
    game = HungryGeese()
    state = game.initial_state_for(game.configure(CONFIG), SEED, 4)
    moves = []
    while not game.is_terminal(state):
        actions = {p: HEADINGS[p] for p in game.to_move(state)}
        moves.append(actions)
        state = game.apply(state, actions)
    return record(game, moves, CONFIG, seed=SEED)


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_a_four_player_match_is_rated_and_shown(
    page: Page, no_js_page: Page, web_server: WebServer, screenshot: Screenshot
) -> None:
    factory = web_server.session_factory
    admin = web_server.make_user("chief", admin=True)
    owners = [web_server.make_user("alice"), web_server.make_user("bob")]
    replay = _replay()
    with httpx.Client(base_url=web_server.url, timeout=30) as client:
        agents = [_goose(client, factory, owners[n % 2], name) for n, name in enumerate(NAMES)]
        created = client.post(
            "/api/v1/matches",
            json={"agentIds": agents, "ranked": True, "seed": SEED, "config": CONFIG},
            headers=admin.headers,
        )
        assert created.status_code == 201, created.text
        match_id = created.json()["id"]
        with factory() as session:
            match = MatchQueue(session, web_server.settings).claim_next("slot", "127.0.0.1:1")
            assert match is not None and match.id == match_id
            result = MatchResult(
                MatchStatus.FINISHED,
                replay["winner"],
                replay["scores"],
                [AgentOutcome() for _ in agents],
                len(replay["steps"]) - 1,
                40,
                replay,
            )
            MatchRecorder(session, web_server.settings, RatingsHook()).record(match, result)
            session.commit()
        api = client.get(f"/api/v1/matches/{match_id}").json()
        changes = client.get(f"/api/v1/matches/{match_id}/rating-changes").json()["items"]
    places = [seat["rank"] for seat in api["agents"]]
    scores = replay["scores"]
    assert places == [1 + sum(other > mine for other in scores) for mine in scores]
    assert len(set(places)) > 1
    assert len(changes) == 4  # all four rated by the one match

    page.goto(f"/matches/{match_id}")
    expect(page.get_by_role("heading", level=1)).to_contain_text(" vs ".join(NAMES))
    rows = page.locator("#players tbody tr")
    expect(rows).to_have_count(4)
    for seat, place in enumerate(places):
        expect(rows.nth(seat).locator(".seat-place")).to_have_text(str(place))
    page.wait_for_selector(".replay-ready")
    legend = page.get_by_role("list", name="Players")
    for letter, name in zip("ABCD", NAMES, strict=True):
        expect(legend).to_contain_text(f"Goose {letter}: {name}")
    page.get_by_role("button", name="Last move").click()
    result = page.locator("[data-replay-result]")
    expect(result).to_be_visible()
    first = NAMES[places.index(1)]
    assert result.inner_text().startswith(f"Result: Places: 1. {first}")
    assert page.locator("#result").inner_text() == result.inner_text()
    board = page.locator("svg.replay-geese")
    expect(board).to_have_attribute("data-geese", "4")
    alive = [n for n, goose in enumerate(replay["steps"][-1]["frame"]["geese"]) if goose]
    for seat in alive:
        expect(board.locator(f'g[data-seat="{seat}"] text')).to_have_text("ABCD"[seat])
    expect(page.get_by_role("list", name="Geese").locator("li")).to_have_count(4)
    axe_check(page)
    page.reload()  # the walk starts from the top of a freshly loaded page
    page.wait_for_selector(".replay-ready")
    assert keyboard_walk(page)
    screenshot(page, "geese-match")

    page.goto("/games/geese")
    board = page.locator("table.leaderboard tbody tr")
    expect(board).to_have_count(4)
    expect(board.first).to_contain_text(first)  # the best place gained the most
    axe_check(page)

    no_js_page.goto(f"/matches/{match_id}")
    text = no_js_page.locator("[data-replay-text]")
    expect(text).to_be_visible()
    expect(text.locator(".replay-result")).to_contain_text(f"Places: 1. {first}")
    assert "A: honk" in no_js_page.locator("pre.replay-board-text").first.inner_text()
