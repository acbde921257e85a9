"""Browser tests: Debian's chromium under Playwright, against a real server of the test.

Fixtures (registered by tests/conftest.py):

- ``web_server``: the real app (``botarena serve``'s ``create_app``) served by uvicorn in a
  thread of the test, without workers; ``serve_web(**settings)`` serves one with other
  settings, ``building_web_server`` one with build workers and the embedded executor.
- ``page`` and ``no_js_page``: a page in a fresh context whose base URL is ``web_server``'s,
  with JavaScript on or off; ``new_context(base_url, javascript=True)`` makes more contexts.
- ``page_watch``: what ``page``'s context saw; every context made here fails its test at the
  end on a request outside its server, a console error or an uncaught exception.
- ``screenshot(page, name)``: a full-page PNG in ``$BOTARENA_SCREENSHOTS`` (else the test's
  temporary folder).

A test of a page::

    @pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
    def test_the_leaderboard(page, web_server, screenshot):
        web_server.make_user("alice", password="alice-password")
        page.goto("/games/connectx")
        axe_check(page)  # support.a11y, as keyboard_walk
        keyboard_walk(page)
        screenshot(page, "leaderboard")

One chromium serves the whole run; it is closed as soon as the next test needs no browser,
because Playwright's sync API leaves an event loop running in the main thread while it is
open, and a later test calling ``asyncio.run`` would fail.
"""

from __future__ import annotations

import os
import re
import shutil
from collections.abc import Callable, Iterator
from contextlib import ExitStack
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from fastapi import FastAPI
from playwright.sync_api import (
    Browser,
    BrowserContext,
    Page,
    Playwright,
    ViewportSize,
    sync_playwright,
)

from botarena.accounts.service import AccountService
from botarena.app import create_app
from botarena.db.engine import SessionFactory, session_scope
from botarena.settings import Settings

from support.accounts import Account
from support.page_watch import PageWatch, origin
from support.services import require_sandbox, require_service
from support.threaded import serving

CHROMIUM_FLAGS = (
    "--no-sandbox",
    "--disable-gpu",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
)
INSTALL = "apt-get install -y --no-install-recommends chromium"
VIEWPORT = ViewportSize(width=1280, height=800)
_HOST = pytest.StashKey["BrowserHost"]()


class BrowserHost:
    """Debian's chromium, launched on first use and closed when asked."""

    def __init__(self) -> None:
        self._playwright: Playwright | None = None
        self._browser: Browser | None = None

    def browser(self) -> Browser:
        if self._browser is None:
            executable = shutil.which("chromium")
            if executable is None:
                require_service("Debian's chromium", f"not installed ({INSTALL}; make test does)")
            self._playwright = sync_playwright().start()
            self._browser = self._playwright.chromium.launch(
                executable_path=executable, args=list(CHROMIUM_FLAGS)
            )
        return self._browser

    def close(self) -> None:
        if self._browser is not None:
            self._browser.close()
            self._browser = None
        if self._playwright is not None:
            self._playwright.stop()
            self._playwright = None


@pytest.fixture(scope="session")
def browser_host(pytestconfig: pytest.Config) -> Iterator[BrowserHost]:
    host = BrowserHost()
    pytestconfig.stash[_HOST] = host
    try:
        yield host
    finally:
        host.close()


@pytest.hookimpl(trylast=True)
def pytest_runtest_teardown(item: pytest.Item, nextitem: pytest.Item | None) -> None:
    """Close the browser once the tests that need it are done (see the module's docstring)."""
    host = item.config.stash.get(_HOST, None)
    if host is not None and "browser" not in getattr(nextitem, "fixturenames", ()):
        host.close()


@pytest.fixture
def browser(browser_host: BrowserHost) -> Browser:
    """The run's chromium (launched with ``CHROMIUM_FLAGS`` on the first test that needs it)."""
    return browser_host.browser()


@dataclass
class Contexts:
    """The contexts a test opened, each guarded by its own ``PageWatch``."""

    browser: Browser
    watches: dict[int, PageWatch] = field(default_factory=dict)
    opened: list[BrowserContext] = field(default_factory=list)

    def new(self, base_url: str, *, javascript: bool = True, **options: Any) -> BrowserContext:
        context = self.browser.new_context(
            base_url=base_url,
            java_script_enabled=javascript,
            service_workers="block",
            viewport=VIEWPORT,
            **options,
        )
        context.set_default_timeout(15_000)
        watch = PageWatch(origin(base_url))
        watch.attach(context)
        self.watches[id(context)] = watch
        self.opened.append(context)
        return context

    def watch(self, context: BrowserContext) -> PageWatch:
        return self.watches[id(context)]

    def close_and_check(self) -> None:
        """Close every context, then fail on what any of them saw."""
        for context in self.opened:
            context.close()
        for context in self.opened:
            self.watch(context).assert_clean()


@pytest.fixture
def browser_contexts(browser: Browser) -> Iterator[Contexts]:
    contexts = Contexts(browser)
    yield contexts
    contexts.close_and_check()


NewContext = Callable[..., BrowserContext]


@pytest.fixture
def new_context(browser_contexts: Contexts) -> NewContext:
    """``new_context(base_url, javascript=True, **options)``: a fresh, guarded context."""
    return browser_contexts.new


@dataclass
class WebServer:
    """The real app serving on a loopback port for the test."""

    url: str
    app: FastAPI
    settings: Settings

    @property
    def session_factory(self) -> SessionFactory:
        factory: SessionFactory = self.app.state.session_factory
        return factory

    def make_user(self, name: str, *, admin: bool = False, password: str | None = None) -> Account:
        """A user straight in this server's database (as conftest's ``make_user``)."""
        with session_scope(self.session_factory) as session:
            user, issued = AccountService(session).create_user(name, password, admin=admin)
        return Account(user.id, user.username, issued.secret)


ServeWeb = Callable[..., WebServer]


@pytest.fixture
def serve_web(settings: Settings) -> Iterator[ServeWeb]:
    """``serve_web(**settings)``: the app with the test's settings changed by these, served
    until the test ends."""
    with ExitStack() as stack:

        def serve(**overrides: Any) -> WebServer:
            live = settings.model_copy(update=overrides)
            app = create_app(live)
            return WebServer(stack.enter_context(serving(app)), app, live)

        yield serve


@pytest.fixture
def web_server(serve_web: ServeWeb) -> WebServer:
    """The app as ``botarena serve`` makes it, without background workers."""
    return serve_web()


@pytest.fixture
def building_web_server(serve_web: ServeWeb) -> WebServer:
    """The app with its build workers (the local sandbox) and the embedded executor."""
    require_sandbox()
    return serve_web(
        builds_enabled=True,
        build_backend="local",
        build_check_interval=0.5,
        matches_enabled=True,
        match_lease_seconds=4.0,
        executor_capacity=1,
    )


@pytest.fixture
def context(web_server: WebServer, new_context: NewContext) -> BrowserContext:
    # The server first, so that it is stopped after the browser's contexts are closed: a page
    # holding a live stream would otherwise keep the server's shutdown waiting.
    return new_context(web_server.url)


@pytest.fixture
def page(context: BrowserContext) -> Page:
    """A page of ``web_server`` (``page.goto("/docs")``), JavaScript on."""
    return context.new_page()


@pytest.fixture
def no_js_page(web_server: WebServer, new_context: NewContext) -> Page:
    """A page of ``web_server`` in a context with JavaScript disabled."""
    return new_context(web_server.url, javascript=False).new_page()


@pytest.fixture
def page_watch(context: BrowserContext, browser_contexts: Contexts) -> PageWatch:
    return browser_contexts.watch(context)


def screenshot_folder(default: Path) -> Path:
    configured = os.environ.get("BOTARENA_SCREENSHOTS")
    folder = Path(configured) if configured else default
    folder.mkdir(parents=True, exist_ok=True)
    return folder


Screenshot = Callable[[Page, str], Path]


@pytest.fixture
def screenshot(tmp_path: Path) -> Screenshot:
    """``screenshot(page, "leaderboard")``: the whole page as ``leaderboard.png``."""

    def take(page: Page, name: str) -> Path:
        if not re.fullmatch(r"[a-z0-9][a-z0-9._-]*", name):
            raise ValueError(f"a screenshot name is lower-case letters, digits, . _ -: {name!r}")
        path = screenshot_folder(tmp_path / "screenshots") / f"{name}.png"
        page.screenshot(path=path, full_page=True, animations="disabled")
        return path

    return take
