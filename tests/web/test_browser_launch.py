"""The browser the harness runs, the server it runs against when builds are needed, and the
run it leaves behind: Debian's chromium with its flags, real builds, no event loop left."""

from __future__ import annotations

import asyncio
import os
import shutil
import time
from pathlib import Path
from typing import Any

import httpx
import pytest
from playwright.sync_api import Browser

from support.api import create_agent, submit_archive, zip_files
from support.browser import CHROMIUM_FLAGS, BrowserHost, NewContext, WebServer
from support.matches import RANDOM

sqlite_only = pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)


def _descendants(root: int) -> list[int]:
    parents: dict[int, int] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                stat = (entry / "stat").read_text()
            except OSError:
                continue
            parents[int(entry.name)] = int(stat.rsplit(")", 1)[1].split()[1])
    found, frontier = [], [root]
    while frontier:
        children = [pid for pid, parent in parents.items() if parent in frontier]
        found += children
        frontier = children
    return found


def test_the_browser_is_debians_chromium_with_the_flags(browser: Browser) -> None:
    debian = Path(shutil.which("chromium") or "/usr/bin/chromium")
    commands = []
    for pid in _descendants(os.getpid()):
        try:
            command = (Path("/proc") / str(pid) / "cmdline").read_bytes().split(b"\0")
        except OSError:
            continue
        if b"--remote-debugging-pipe" in command:
            commands.append([part.decode() for part in command if part])
    assert commands, "no browser process among this test's children"
    # Debian's /usr/bin/chromium is a script that starts /usr/lib/chromium/chromium.
    assert debian.read_text(errors="replace").startswith("#!")
    for command in commands:
        assert command[0].startswith("/usr/lib/chromium/"), command
        assert set(CHROMIUM_FLAGS) <= set(command), command
        assert "ms-playwright" not in " ".join(command)


def test_pytest_playwrights_own_fixtures_are_off(pytestconfig: pytest.Config) -> None:
    # Its browser fixtures would launch Playwright's own download, which does not exist here.
    assert not pytestconfig.pluginmanager.has_plugin("playwright")


@pytest.mark.parametrize(
    ("ci", "outcome"), [("true", pytest.fail.Exception), ("", pytest.skip.Exception)]
)
def test_without_chromium_browser_tests_skip_or_fail_under_ci(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, ci: str, outcome: type[BaseException]
) -> None:
    monkeypatch.setenv("PATH", str(tmp_path))
    monkeypatch.setenv("CI", ci)
    host = BrowserHost()
    with pytest.raises(outcome, match="apt-get install -y --no-install-recommends chromium"):
        host.browser()
    host.close()


def test_no_event_loop_is_left_running_after_the_browser_tests() -> None:
    """Runs after the browser tests above (pytest keeps a file's order): the browser was
    closed when this test, which needs none, came next, so ``asyncio.run`` works again."""

    async def answer() -> int:
        return 42

    assert asyncio.run(answer()) == 42


def _build_end(api: httpx.Client, sub: str, seconds: float = 120) -> dict[str, Any]:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        status: dict[str, Any] = api.get(f"/api/v1/submissions/{sub}/build-status").json()
        if status["status"] in ("success", "build_failed"):
            return status
        time.sleep(0.2)
    raise AssertionError(f"the build did not end in {seconds}s: {status}")


@sqlite_only
def test_the_building_server_builds_for_real_and_the_browser_sees_it(
    building_web_server: WebServer, new_context: NewContext
) -> None:
    server = building_web_server
    alice = server.make_user("alice", password="alice-password")
    with httpx.Client(base_url=server.url, timeout=30) as api:
        agent = create_agent(api, alice, "random")
        sub = submit_archive(api, alice, agent, zip_files({"main.py": RANDOM}))
        status = _build_end(api, sub)
    assert status["status"] == "success", status
    page = new_context(server.url, extra_http_headers=alice.headers).new_page()
    answer = page.goto(f"/api/v1/submissions/{sub}/build-logs")
    assert answer is not None and answer.ok
    assert page.locator("body").inner_text().strip()
