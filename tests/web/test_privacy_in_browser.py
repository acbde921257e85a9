"""What one participant cannot see of another's in Debian's chromium, pages and live fragments
alike: the build log, the code URL and the agent's log in a match; and hostile text in those
logs shown as text to the owner, running nothing."""

from __future__ import annotations

import httpx
import pytest
from playwright.sync_api import BrowserContext, Page, expect

from botarena.agents.models import Submission
from botarena.storage import build_log_path

from support.accounts import Account
from support.browser import NewContext, WebServer
from support.match_pages import finished_match, ready_agent

PASSWORD = "correct horse battery staple"
CODE_URL = "https://git.example.com/alice/secret-strategy.git"
# Each would set window.pwned if it ran.
HOSTILE = '<script>window.pwned = 1</script> <img src=x onerror="window.pwned = 2">'
BUILD_LINE = f"SECRET-BUILD-LINE {HOSTILE}"
ALICE_LOG = f"ALICE-MATCH-LOG {HOSTILE}"
BOB_LOG = "BOB-MATCH-LOG thinking"
# Reads a live stream for a while as the page's own script would, then stops: its text.
READ_STREAM = """async (path) => {
  const stop = new AbortController();
  setTimeout(() => stop.abort(), 1500);
  let text = "";
  try {
    const answer = await fetch(path, {signal: stop.signal});
    const reader = answer.body.getReader();
    for (;;) {
      const {value, done} = await reader.read();
      if (done) break;
      text += new TextDecoder().decode(value);
    }
  } catch (e) {}
  return text;
}"""


def _signed_in(new_context: NewContext, server: WebServer, username: str) -> Page:
    context: BrowserContext = new_context(server.url)
    page = context.new_page()
    page.goto("/login")
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(f"{server.url}/")
    return page


def _building_with_log(server: WebServer, owner: Account) -> tuple[str, str]:
    """An agent of ``owner`` whose submission is building and has written its log so far."""
    with httpx.Client(base_url=server.url, headers=owner.headers, timeout=30) as client:
        agent = client.post("/api/v1/agents", json={"name": "hidden", "game": "connectx"})
        assert agent.status_code == 201, agent.text
        body = {"agentId": agent.json()["id"], "codeUrl": CODE_URL}
        sub = client.post("/api/v1/submissions", json=body)
        assert sub.status_code == 201, sub.text
    sub_id: str = sub.json()["submission"]["id"]
    with server.session_factory() as session:
        row = session.get(Submission, sub_id)
        assert row is not None
        row.status = "building"
        session.commit()
    log = build_log_path(server.settings, sub_id)
    log.parent.mkdir(parents=True, exist_ok=True)
    log.write_text(f"Collecting numpy\n{BUILD_LINE}\n")
    return agent.json()["id"], sub_id


def _match_with_logs(server: WebServer, alice: Account, bob: Account) -> str:
    admin = server.make_user("chief", admin=True)
    factory = server.session_factory
    with httpx.Client(base_url=server.url, timeout=30) as client:
        red = ready_agent(client, factory, alice, "alices-red")
        yellow = ready_agent(client, factory, bob, "bobs-yellow")
        return finished_match(
            client, factory, server.settings, admin, (red, yellow), logs=(ALICE_LOG, BOB_LOG)
        )


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_another_participant_sees_no_log_and_no_code_url(
    web_server: WebServer, new_context: NewContext
) -> None:
    alice = web_server.make_user("alice", password=PASSWORD)
    bob = web_server.make_user("bob", password=PASSWORD)
    agent_id, sub_id = _building_with_log(web_server, alice)
    match_id = _match_with_logs(web_server, alice, bob)

    page = _signed_in(new_context, web_server, "bob")
    for path in (f"/submissions/{sub_id}", f"/agents/{agent_id}"):
        page.goto(path)
        expect(page.get_by_role("heading", level=1)).to_be_visible()
        text = page.locator("main").inner_text()
        assert "SECRET-BUILD-LINE" not in text and "Collecting numpy" not in text, path
        assert CODE_URL not in page.content(), path
    # The live fragment of the build: the status, never a line of the log.
    streamed = page.evaluate(READ_STREAM, f"/live/submissions/{sub_id}")
    assert "event: status" in streamed
    assert "SECRET-BUILD-LINE" not in streamed and "Collecting numpy" not in streamed
    # A match between the two: bob reads his agent's log, not alice's.
    page.goto(f"/matches/{match_id}")
    expect(page.get_by_text("BOB-MATCH-LOG thinking")).to_be_visible()
    assert "ALICE-MATCH-LOG" not in page.content()
    # The API says the same with bob's session cookie alone: no token, no log.
    refused = page.request.get(f"/api/v1/matches/{match_id}/logs/0")
    assert refused.status in (401, 403)
    assert "ALICE-MATCH-LOG" not in refused.text()


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_the_owner_reads_hostile_lines_as_text_and_nothing_runs(
    web_server: WebServer, new_context: NewContext
) -> None:
    alice = web_server.make_user("alice", password=PASSWORD)
    bob = web_server.make_user("bob", password=PASSWORD)
    _agent_id, sub_id = _building_with_log(web_server, alice)
    match_id = _match_with_logs(web_server, alice, bob)

    page = _signed_in(new_context, web_server, "alice")
    page.goto(f"/submissions/{sub_id}")
    expect(page.locator("#build-log")).to_contain_text(BUILD_LINE)
    assert CODE_URL in page.content()
    streamed = page.evaluate(READ_STREAM, f"/live/submissions/{sub_id}")
    assert "SECRET-BUILD-LINE &lt;script&gt;" in streamed  # sent escaped
    page.goto(f"/matches/{match_id}")
    expect(page.get_by_text(ALICE_LOG)).to_be_visible()
    assert "BOB-MATCH-LOG" not in page.content()
    assert page.evaluate("window.pwned") is None
    # The text is in the page as text: no element came from it.
    assert page.locator("main img[src='x']").count() == 0
