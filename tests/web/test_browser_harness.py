"""The browser harness itself, in Debian's chromium: the guard against outside requests, the
accessibility checks, JavaScript switched off, screenshots, and ``/docs`` as a first page."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi import FastAPI
from fastapi.responses import HTMLResponse, Response
from playwright.sync_api import Page

from support.a11y import axe_check, axe_violations, keyboard_walk
from support.browser import Contexts, NewContext, Screenshot, WebServer
from support.page_watch import PageWatch
from support.threaded import serving

sqlite_only = pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)

# Swagger UI's own (its method badges' contrast, a button inside its summary button): left
# as they are, the helper must report them.
SWAGGER_VIOLATIONS = {"color-contrast", "nested-interactive"}
PIXEL = "data:image/gif;base64,R0lGODlhAQABAIAAAP///wAAACH5BAEAAAAALAAAAAABAAEAAAICRAEAOw=="


def _html(title: str, body: str, head: str = "") -> str:
    return (
        f'<!doctype html><html lang="en"><head><meta charset="utf-8"><title>{title}</title>'
        f"{head}</head><body><main><h1>{title}</h1>{body}</main></body></html>"
    )


PAGES = {
    "clean": _html(
        "A clean page",
        f'<p>Text.</p><img src="{PIXEL}" alt="A dot"><a href="/clean">This page</a>'
        '<button type="button">Go</button>'
        '<fieldset><legend>Speed</legend><label><input type="radio" name="s" checked> Slow'
        '</label><label><input type="radio" name="s"> Fast</label></fieldset>',
    ),
    "image-without-alt": _html("An image without alt", f'<img src="{PIXEL}">'),
    "keyboard-traps": _html(
        "Keyboard problems",
        '<button type="button" class="bare">No outline</button>'
        '<button type="button"><svg aria-hidden="true" width="10" height="10"></svg></button>'
        '<div role="button">Not focusable</div>',
        head="<style>.bare:focus, .bare:focus-visible { outline: none; }</style>",
    ),
    "cdn": _html(
        "Loads a CDN", "<p>Hi</p>", head='<script src="https://cdn.example.com/x.js"></script>'
    ),
    "reaches-out": _html("Reaches out", "<p>Hi</p>", head='<script src="/reach.js"></script>'),
    "scripted": _html("Scripted", "<p>Hi</p>", head='<script src="/mark.js"></script>'),
    "throws": _html("Throws", "<p>Hi</p>", head='<script src="/throw.js"></script>'),
}
SCRIPTS = {
    "reach.js": "fetch('http://127.0.0.1:9/other-port').catch(() => {});"
    "new WebSocket('wss://ws.example.com/feed');",
    "mark.js": "document.addEventListener('DOMContentLoaded', () => {"
    " document.body.dataset.scripted = 'yes'; });",
    "throw.js": "console.error('something broke'); throw new Error('boom');",
}


@pytest.fixture
def own_site() -> Iterator[str]:
    """Small pages of this test's own, served on a loopback port."""
    app = FastAPI()

    @app.get("/{name}")
    def page(name: str) -> Response:
        if name in SCRIPTS:
            return Response(SCRIPTS[name], media_type="text/javascript")
        return HTMLResponse(PAGES[name]) if name in PAGES else Response(status_code=404)

    with serving(app) as url:
        yield url


def _open(new_context: NewContext, site: str, path: str, *, javascript: bool = True) -> Page:
    page = new_context(site, javascript=javascript).new_page()
    answer = page.goto(path)
    assert answer is not None and answer.ok
    return page


def _forget(page: Page, watch: PageWatch) -> None:
    """Close the context, then clear what it saw: the test has checked it on purpose."""
    page.context.close()
    watch.external.clear()
    watch.console_errors.clear()
    watch.page_errors.clear()


def _wait_until(page: Page, condition: object, what: str) -> None:
    for _ in range(100):
        if callable(condition) and condition():
            return
        page.wait_for_timeout(50)
    raise AssertionError(f"never happened: {what}")


def test_a_page_loading_from_a_cdn_is_stopped_and_fails_its_test(
    own_site: str, browser_contexts: Contexts
) -> None:
    page = _open(browser_contexts.new, own_site, "/cdn")
    watch = browser_contexts.watch(page.context)
    # Chromium may ask twice (its preload scanner, then the parser): each time is stopped.
    assert set(watch.external) == {"https://cdn.example.com/x.js"}
    _wait_until(page, lambda: watch.console_errors, "the console's word on the blocked script")
    assert "ERR_BLOCKED_BY_CLIENT" in watch.console_errors[0]
    # What the fixture runs at the end of every test that opened a context:
    with pytest.raises(
        pytest.fail.Exception, match=r"outside the server .*cdn\.example\.com/x\.js"
    ):
        browser_contexts.close_and_check()
    _forget(page, watch)


def test_fetches_and_web_sockets_elsewhere_are_stopped(
    own_site: str, browser_contexts: Contexts
) -> None:
    page = _open(browser_contexts.new, own_site, "/reaches-out")
    watch = browser_contexts.watch(page.context)
    wanted = {"http://127.0.0.1:9/other-port", "wss://ws.example.com/feed"}
    _wait_until(page, lambda: set(watch.external) == wanted, "both requests stopped")
    assert len(watch.problems()) >= 2
    _forget(page, watch)


def test_console_errors_and_exceptions_fail_unless_allowed(
    own_site: str, browser_contexts: Contexts
) -> None:
    page = _open(browser_contexts.new, own_site, "/throws")
    watch = browser_contexts.watch(page.context)
    _wait_until(page, lambda: watch.page_errors and watch.console_errors, "the errors heard")
    with pytest.raises(pytest.fail.Exception, match="something broke"):
        watch.assert_clean()
    assert any("boom" in line for line in watch.page_errors)
    watch.allow_console_error("something broke")
    assert watch.problems() == [f"uncaught exception: {watch.page_errors[0]}"]
    _forget(page, watch)


def test_a_clean_page_passes_every_check(own_site: str, new_context: NewContext) -> None:
    page = _open(new_context, own_site, "/clean")
    assert axe_violations(page) == []
    axe_check(page)
    stops = keyboard_walk(page)
    assert [stop.name for stop in stops] == ["This page", "Go", "Slow"]


def test_axe_check_names_the_rule_the_target_and_the_help(
    own_site: str, new_context: NewContext
) -> None:
    page = _open(new_context, own_site, "/image-without-alt")
    with pytest.raises(AssertionError) as failure:
        axe_check(page)
    message = str(failure.value)
    assert "image-alt (critical): Images must have alternative text" in message
    assert "at: img" in message and "dequeuniversity.com/rules/axe" in message


def test_keyboard_walk_reports_what_a_keyboard_user_cannot_use(
    own_site: str, new_context: NewContext
) -> None:
    page = _open(new_context, own_site, "/keyboard-traps")
    with pytest.raises(AssertionError) as failure:
        keyboard_walk(page)
    problems = str(failure.value).splitlines()[1:]
    assert [line.split(":")[0].strip() for line in problems] == [
        "not reachable with Tab",
        "no accessible name",
        "no visible focus indicator",
    ], problems
    assert "'Not focusable'" in problems[0]
    assert "button:nth-of-type(2)" in problems[1]
    assert "'No outline'" in problems[2]


def test_a_context_without_javascript_runs_no_script(
    own_site: str, new_context: NewContext
) -> None:
    with_js = _open(new_context, own_site, "/scripted")
    with_js.wait_for_selector("body[data-scripted=yes]")
    without = _open(new_context, own_site, "/scripted", javascript=False)
    assert without.locator("h1").inner_text() == "Scripted"
    assert without.get_attribute("body", "data-scripted") is None


def test_screenshots_go_where_botarena_screenshots_says(
    own_site: str,
    new_context: NewContext,
    screenshot: Screenshot,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    page = _open(new_context, own_site, "/clean")
    default = screenshot(page, "clean")
    assert default == tmp_path / "screenshots" / "clean.png"
    monkeypatch.setenv("BOTARENA_SCREENSHOTS", str(tmp_path / "shots"))
    chosen = screenshot(page, "clean")
    assert chosen == tmp_path / "shots" / "clean.png"
    assert chosen.read_bytes().startswith(b"\x89PNG\r\n\x1a\n")
    with pytest.raises(ValueError, match="screenshot name"):
        screenshot(page, "../escape")


@sqlite_only
def test_the_api_docs_load_everything_from_the_server(
    page: Page, page_watch: PageWatch, web_server: WebServer, screenshot: Screenshot
) -> None:
    requested: list[str] = []
    page.on("request", lambda request: requested.append(request.url))
    answer = page.goto("/docs")
    assert answer is not None and answer.ok
    assert "script-src 'self' 'nonce-" in answer.headers["content-security-policy"]
    page.locator(".swagger-ui .info .title").filter(has_text="botarena").wait_for()
    page.locator(".opblock-summary-path", has_text="/api/v1/agents").first.wait_for()
    assert page_watch.external == []
    assert page_watch.console_errors == [] and page_watch.page_errors == []
    assert f"{web_server.url}/static/swagger-ui/swagger-ui-bundle.js" in requested
    assert f"{web_server.url}/openapi.json" in requested
    assert all(url.startswith(f"{web_server.url}/") for url in requested), requested
    screenshot(page, "api-docs")


@sqlite_only
def test_the_api_docs_get_axe_checked(page: Page) -> None:
    page.goto("/docs")
    page.locator(".opblock-summary-path").first.wait_for()
    found = {violation["id"] for violation in axe_violations(page)}
    assert found == SWAGGER_VIOLATIONS
    with pytest.raises(AssertionError) as failure:
        axe_check(page)
    message = str(failure.value)
    assert "2 accessibility violation(s) on " in message
    assert "color-contrast (serious): Elements must meet minimum color contrast" in message
    assert "nested-interactive (serious)" in message and " more" in message


@sqlite_only
def test_the_no_javascript_page_is_the_servers_with_scripts_off(no_js_page: Page) -> None:
    answer = no_js_page.goto("/docs")
    assert answer is not None and answer.ok
    # Swagger UI renders in script only: with JavaScript off its mount point stays empty.
    assert no_js_page.locator("#swagger-ui").inner_html().strip() == ""
