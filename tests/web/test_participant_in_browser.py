"""A participant's whole way in Debian's chromium against a server with real builds and a real
executor: sign in, create an agent from the leaderboard, upload a folder, watch its build log
arrive live to success, activate it, challenge another agent, watch the match end, play its
replay to the end (the board and result agree with the API) and find the agent on the
leaderboard; the agent page with its forms passes axe as its owner."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import httpx
import pytest
from playwright.sync_api import Page, expect

from support.a11y import axe_check
from support.api import create_agent, submit_archive, zip_files
from support.browser import NewContext, Screenshot, WebServer
from support.matches import RANDOM

DONE = ("success", "build_failed")


def _api_until(api: httpx.Client, path: str, key: str, ends: tuple[str, ...]) -> dict[str, Any]:
    deadline = time.monotonic() + 120
    while True:
        answer: dict[str, Any] = api.get(path).json()
        if answer[key] in ends or time.monotonic() > deadline:
            return answer
        time.sleep(0.2)


def _opponent(server: WebServer) -> str:
    """Bob's agent, built for real and active, made through the API."""
    bob = server.make_user("bob")
    with httpx.Client(base_url=server.url, timeout=30, headers=bob.headers) as api:
        agent = create_agent(api, bob, "bobs-random")
        sub = submit_archive(api, bob, agent, zip_files({"main.py": RANDOM}))
        built = _api_until(api, f"/api/v1/submissions/{sub}/build-status", "status", DONE)
        assert built["status"] == "success", built
        assert api.post(f"/api/v1/submissions/{sub}/activate").status_code == 200
    return agent


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_a_participant_enters_an_agent_and_challenges_another(
    building_web_server: WebServer,
    new_context: NewContext,
    screenshot: Screenshot,
    tmp_path: Path,
) -> None:
    server = building_web_server
    server.make_user("alice", password="alice-password")
    opponent = _opponent(server)
    folder = tmp_path / "my-bot"
    (folder / "__pycache__").mkdir(parents=True)
    (folder / "main.py").write_bytes(RANDOM)
    (folder / "__pycache__" / "main.cpython-313.pyc").write_bytes(b"\0")
    page: Page = new_context(server.url).new_page()

    # Sign in from the leaderboard, which sends her on to the new agent's form.
    page.goto("/games/connectx")
    page.get_by_role("link", name="Sign in", exact=True).last.click()
    page.get_by_label("Username").fill("alice")
    page.get_by_label("Password").fill("alice-password")
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("New agent")
    expect(page.get_by_label("Game")).to_have_value("connectx")
    axe_check(page)
    page.get_by_label("Name").fill("alices-random")
    page.get_by_role("button", name="Create agent").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("alices-random")
    agent = page.url.rsplit("/", 1)[1]

    # A whole folder, as the browser sends one: every file under its relative path.
    page.set_input_files("#folder", folder)
    page.get_by_role("button", name="Upload folder").click()
    page.wait_for_url("**/submissions/*")
    sub = page.url.rsplit("/", 1)[1]
    status = page.locator("#build-status .badge").first
    assert status.inner_text() in ("pending", "building")
    lines_at_load = page.locator("#build-log li").count()
    page.evaluate("window.notReloaded = true")
    expect(status).to_have_text("success", timeout=120_000)
    assert page.locator("#build-log li").count() > lines_at_load
    assert page.evaluate("window.notReloaded") is True  # it came over the stream

    # Activate it on the agent's page.
    page.get_by_role("link", name="alices-random").first.click()
    page.get_by_role("button", name="Activate submission 1").click()
    expect(page.locator("#submissions .badge").first).to_have_text("active")
    quota = page.locator("#challenge-quota")
    expect(quota).to_contain_text("50 of 50 challenges left")
    axe_check(page)
    screenshot(page, "agent-owner")

    # Challenge Bob's agent and watch the match end.
    page.get_by_label("Opponent").select_option(opponent)
    page.get_by_role("button", name="Challenge").click()
    page.wait_for_url("**/matches/*")
    match = page.url.rsplit("/", 1)[1]
    expect(page.locator("#match-status .badge").first).to_have_text("finished", timeout=120_000)
    with httpx.Client(base_url=server.url, timeout=30) as api:
        result = api.get(f"/api/v1/matches/{match}").json()
        names = {a: api.get(f"/api/v1/agents/{a}").json()["name"] for a in (agent, opponent)}
        replay = api.get(f"/api/v1/matches/{match}/replay").json()
    assert result["status"] == "finished" and result["ranked"] is False
    assert [a["agentId"] for a in result["agents"]] == [agent, opponent]

    # The replay to its last move says what the API says.
    page.reload()
    page.wait_for_selector(".replay-ready")
    page.get_by_role("button", name="Last move").click()
    shown = page.locator("[data-replay-result]")
    expect(shown).to_be_visible()
    if result["winner"] is None:
        assert "draw" in shown.inner_text().lower()
    else:
        winner = names[result["agents"][result["winner"]]["agentId"]]
        assert shown.inner_text().startswith(f"Result: {winner} ")
    assert page.locator("#result").inner_text() == shown.inner_text()
    slider = page.get_by_label("Move", exact=True)
    assert slider.input_value() == slider.get_attribute("max")
    cells = page.locator(".replay-stage [data-cell]")
    board = [int(mark) for mark in cells.evaluate_all("cs => cs.map(c => c.dataset.mark)")]
    assert board == replay["steps"][-1]["frame"]["board"]
    assert replay["winner"] == result["winner"]

    # On the leaderboard.
    page.goto("/games/connectx")
    expect(page.locator("table.leaderboard")).to_contain_text("alices-random")
    page.goto(f"/agents/{agent}")
    expect(page.locator("#challenge-quota")).to_contain_text("49 of 50 challenges left")
    assert sub
