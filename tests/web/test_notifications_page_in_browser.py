"""``/me/notifications`` in Debian's chromium: a user adds a webhook to a real receiver, sees
its secret once, sends a test event that arrives signed with it, and reads the delivery log;
the page is accessible."""

from __future__ import annotations

import time
from collections.abc import Iterator

import pytest
from playwright.sync_api import Page, expect

from botarena.notifications.signing import verify

from support.a11y import axe_check
from support.browser import Screenshot, ServeWeb, WebServer
from support.webhook_receiver import Receiver, webhook_receiver

sqlite_only = pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
PASSWORD = "correct horse battery staple"


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    with webhook_receiver() as running:
        yield running


@pytest.fixture
def web_server(serve_web: ServeWeb, receiver: Receiver) -> WebServer:
    """With the delivery worker, allowed to reach the receiver on the loopback."""
    return serve_web(
        notifications_enabled=True,
        notify_interval=0.2,
        webhook_allow_http=True,
        webhook_allow_hosts=("127.0.0.1",),
    )


@sqlite_only
def test_a_webhook_added_on_the_page_gets_a_signed_test_event(
    page: Page, web_server: WebServer, receiver: Receiver, screenshot: Screenshot
) -> None:
    web_server.make_user("maria", password=PASSWORD)
    page.goto("/me/notifications")
    page.get_by_label("Username").fill("maria")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(f"{web_server.url}/me/notifications")
    expect(page.get_by_role("heading", level=1)).to_have_text("Notifications")

    page.get_by_label("URL").fill(receiver.url)
    page.get_by_label("A build finished (built or failed, with the reason)").first.check()
    page.get_by_role("button", name="Add webhook").click()
    secret = page.get_by_label("Signing secret", exact=True).input_value()
    assert secret.startswith("whsec_")
    expect(page.get_by_role("status")).to_contain_text("shown this once")
    axe_check(page)

    page.get_by_role("button", name=f"Send a test event to {receiver.url}").click()
    page.wait_for_url(f"{web_server.url}/me/notifications#deliveries")
    assert secret not in page.content()
    deadline = time.monotonic() + 10
    while not receiver.received and time.monotonic() < deadline:
        page.wait_for_timeout(100)
    [request] = receiver.received
    assert verify(secret, request.headers["X-Botarena-Signature"], request.body, int(time.time()))
    for _ in range(50):
        page.reload()
        if "delivered" in page.locator("#delivery-log").inner_text():
            break
        page.wait_for_timeout(100)
    row = page.locator("#delivery-log tbody tr").first
    expect(row).to_contain_text("ping")
    expect(row).to_contain_text("delivered")
    axe_check(page)
    screenshot(page, "notifications")
