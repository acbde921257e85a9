"""The replay player in Debian's chromium: controls by their accessible names, keys, ?step=N,
the move list, announcements, the final board and result, the speed kept, no JavaScript."""

from __future__ import annotations

import json
import shutil
from collections.abc import Iterator
from typing import Any

import pytest

from botarena.games.connectx import ConnectX
from botarena.games.replay_view import build_view
from botarena.games.rps import RockPaperScissors
from botarena.games.tictactoe import TicTacToe

from support.replay_pages import ReplayPages, serve_replay_pages
from support.replays import record
from support.services import require_service

playwright_api = pytest.importorskip("playwright.sync_api")

CHROMIUM = "/usr/bin/chromium"
FLAGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
CONNECTX_MOVES = [3, 3, 4, 4, 5, 5, 6]  # Red wins along the bottom row on move 7
HOSTILE = '</script><img src=x onerror="window.hacked=1">'


@pytest.fixture(scope="module")
def chromium() -> Iterator[Any]:
    if shutil.which(CHROMIUM) is None:
        require_service("chromium", f"{CHROMIUM} is not installed")
    with playwright_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=FLAGS)
        try:
            yield browser
        finally:
            browser.close()


@pytest.fixture(scope="module")
def pages() -> Iterator[ReplayPages]:
    with serve_replay_pages() as served:
        connectx, tictactoe, rps = ConnectX(), TicTacToe(), RockPaperScissors()
        replay = record(connectx, CONNECTX_MOVES)
        served.add("connectx", build_view(connectx, replay, ["alice", "<b>bob</b>"]), replay)
        replay = record(tictactoe, [4, 0, 2, 6, 3, 5, 1, 7, 8])
        served.add("tictactoe", build_view(tictactoe, replay, ["xena", "otto"]), replay)
        config = {"episodeSteps": 4, "tieRewardThreshold": 2}
        replay = record(rps, [{0: 0, 1: 2}, {0: 1, 1: 0}, {0: 2, 1: 2}, {0: 0, 1: 1}], config)
        served.add("rps", build_view(rps, replay, ["rocky", "paula"]), replay)
        replay = record(tictactoe, [4, 1, 0, 2, 8])
        served.add("hostile", build_view(tictactoe, replay, [HOSTILE, "otto"]), replay)
        replay = record(connectx, CONNECTX_MOVES)
        served.add("unknown", {**build_view(connectx, replay), "renderer": "missing"}, replay)
        yield served


@pytest.fixture
def tab(chromium: Any) -> Iterator[Any]:
    context = chromium.new_context()
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    page.on("dialog", lambda dialog: errors.append(f"dialog: {dialog.message}"))
    try:
        yield page
        assert errors == []  # no script error, no CSP refusal
    finally:
        context.close()


def open_player(tab: Any, url: str) -> Any:
    tab.goto(url)
    tab.wait_for_selector(".replay-ready")
    return tab.get_by_role("slider", name="Move")


def marks(tab: Any) -> list[int]:
    cells = tab.locator(".replay-stage [data-cell]")
    return [int(value) for value in cells.evaluate_all("cs => cs.map(c => c.dataset.mark)")]


def test_last_move_shows_the_final_board_line_and_result(tab: Any, pages: ReplayPages) -> None:
    slider = open_player(tab, f"{pages.base_url}/match/connectx")
    view = pages.views["connectx"]
    assert slider.get_attribute("aria-valuetext") == "Move 0 of 7: start"
    assert tab.locator("[data-replay-text]").is_hidden()
    for name in ("Play", "Previous move", "Next move", "First move", "Last move"):
        assert tab.get_by_role("button", name=name, exact=True).count() == 1
    tab.get_by_role("button", name="Last move").click()
    assert slider.get_attribute("aria-valuetext") == "Move 7 of 7: Red, column 7"
    assert marks(tab) == view["steps"][-1]["frame"]["board"]
    winning = tab.locator(".replay-stage .replay-win").evaluate_all(
        "cs => cs.map(c => Number(c.dataset.cell))"
    )
    assert winning == [38, 39, 40, 41]
    result = tab.locator("[data-replay-result]")
    assert result.is_visible() and result.inner_text() == f"Result: {view['result']['text']}"
    assert "alice (Red) wins" in result.inner_text()
    live = tab.locator("[aria-live=polite]")
    assert live.inner_text().startswith("Move 7 of 7: Red drops in column 7.")
    assert "step=7" in tab.url
    assert tab.locator(".replay-text pre").text_content() == view["steps"][-1]["board"]
    assert tab.get_by_role("link", name="Download replay (JSON)").first.get_attribute("href") == (
        "/replay/connectx.json"
    )
    player = tab.locator(".replay-player")
    assert player.get_by_text("<b>bob</b>", exact=True).count() == 1  # text, not markup


def test_play_runs_to_the_end_at_the_remembered_speed(tab: Any, pages: ReplayPages) -> None:
    slider = open_player(tab, f"{pages.base_url}/match/connectx")
    tab.get_by_label("Speed").select_option("8")
    tab.get_by_role("button", name="Play", exact=True).click()
    assert tab.get_by_role("button", name="Pause").count() == 1
    tab.get_by_role("button", name="Play", exact=True).wait_for(timeout=10_000)
    assert slider.input_value() == "7"
    assert tab.locator("[data-replay-result]").is_visible()
    tab.reload()
    tab.wait_for_selector(".replay-ready")
    assert tab.get_by_label("Speed").input_value() == "8"
    assert tab.evaluate("localStorage.getItem('botarena.replay.speed')") == "8"


def test_keys_move_the_replay_except_in_a_form_field(tab: Any, pages: ReplayPages) -> None:
    slider = open_player(tab, f"{pages.base_url}/match/connectx")
    tab.keyboard.press("End")
    assert slider.input_value() == "7"
    tab.keyboard.press("Home")
    tab.keyboard.press("ArrowRight")
    assert slider.input_value() == "1"
    assert tab.locator("[aria-live=polite]").inner_text() == "Move 1 of 7: Red drops in column 4."
    tab.keyboard.press("ArrowLeft")
    assert slider.input_value() == "0"
    tab.keyboard.press(" ")
    assert tab.get_by_role("button", name="Pause").count() == 1
    tab.keyboard.press(" ")
    assert tab.get_by_role("button", name="Play", exact=True).count() == 1
    tab.keyboard.press("?")
    dialog = tab.get_by_role("dialog", name="Keyboard shortcuts")
    assert dialog.is_visible()
    tab.keyboard.press("Escape")
    assert dialog.is_hidden()
    shown = slider.input_value()
    tab.get_by_label("Search").fill("")
    tab.get_by_label("Search").press("ArrowRight")
    tab.get_by_label("Search").press("End")
    tab.get_by_label("Search").type("? ")
    assert slider.input_value() == shown and not dialog.is_visible()


def test_step_in_the_url_and_the_move_list(tab: Any, pages: ReplayPages) -> None:
    slider = open_player(tab, f"{pages.base_url}/match/connectx?step=3")
    assert slider.input_value() == "3"
    moves = tab.get_by_role("list", name="Moves")
    current = moves.locator("[aria-current=step]")
    assert current.inner_text() == "Red drops in column 5"
    moves.get_by_role("button", name="Yellow drops in column 6").click()
    assert slider.input_value() == "6" and "step=6" in tab.url
    open_player(tab, f"{pages.base_url}/match/connectx?step=999")
    assert tab.get_by_role("slider", name="Move").input_value() == "7"


def test_tictactoe_and_rps_draw_their_boards(tab: Any, pages: ReplayPages) -> None:
    open_player(tab, f"{pages.base_url}/match/tictactoe")
    tab.get_by_role("button", name="Last move").click()
    assert marks(tab) == pages.views["tictactoe"]["steps"][-1]["frame"]["board"]
    assert tab.locator(".replay-stage path.replay-seat-0").count() == 5  # X as crosses
    assert tab.locator(".replay-stage circle.replay-seat-1").count() == 4  # O as rings
    assert tab.locator("[data-replay-result]").inner_text() == "Result: Draw."
    open_player(tab, f"{pages.base_url}/match/rps")
    tab.get_by_role("button", name="Next move").click()
    assert tab.locator(".replay-rps-side.replay-win").inner_text().startswith("rocky")
    tab.get_by_role("button", name="Last move").click()
    assert tab.locator(".replay-rps-score").get_attribute("data-totals") == "1,-1"
    text = pages.views["rps"]["result"]["text"]
    assert tab.locator("[data-replay-result]").inner_text() == f"Result: {text}"


def test_an_unknown_renderer_falls_back_to_text(chromium: Any, pages: ReplayPages) -> None:
    context = chromium.new_context()  # its own: the missing module's 404 is expected here
    try:
        page = context.new_page()
        open_player(page, f"{pages.base_url}/match/unknown")
        page.get_by_role("button", name="Last move").click()
        board = pages.views["unknown"]["steps"][-1]["board"]
        assert page.locator("pre.replay-generic").text_content() == board
    finally:
        context.close()


def test_reduced_motion_drops_no_piece(chromium: Any, pages: ReplayPages) -> None:
    context = chromium.new_context(reduced_motion="reduce")
    try:
        page = context.new_page()
        open_player(page, f"{pages.base_url}/match/connectx")
        page.get_by_role("button", name="Next move").click()
        assert page.locator(".replay-new").count() == 0
    finally:
        context.close()


def test_without_javascript_the_text_rendering_reads_the_same(
    chromium: Any, pages: ReplayPages
) -> None:
    context = chromium.new_context(java_script_enabled=False)
    try:
        page = context.new_page()
        page.goto(f"{pages.base_url}/match/connectx")
        view = pages.views["connectx"]
        text = page.locator("[data-replay-text]")
        assert text.is_visible()
        assert f"Result: {view['result']['text']}" in text.inner_text()
        assert text.locator("pre").first.text_content() == view["steps"][-1]["board"]
        moves = text.locator("ol > li").all_inner_texts()
        assert moves == [step["move"] for step in view["steps"][1:]]
        embedded = page.locator("script[data-replay-view]").text_content()
        assert json.loads(embedded or "") == view
    finally:
        context.close()


def test_a_hostile_agent_name_is_shown_as_text(tab: Any, pages: ReplayPages) -> None:
    open_player(tab, f"{pages.base_url}/match/hostile")
    tab.get_by_role("button", name="Last move").click()
    result = tab.locator("[data-replay-result]").inner_text()
    assert result.startswith(f"Result: {HOSTILE} (X) wins")
    assert tab.locator("img").count() == 0
    assert tab.evaluate("window.hacked") is None
