"""``/me`` in Debian's chromium: a user signs in, makes a token, sees its secret once, uses it
with the API as a Bearer token, revokes it and it stops working; the page is accessible and
usable with the keyboard, readable without JavaScript, and its screenshot is taken."""

from __future__ import annotations

import httpx
import pytest
from playwright.sync_api import Page, expect

from support.a11y import axe_check, keyboard_walk
from support.browser import Screenshot, WebServer

sqlite_only = pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
PASSWORD = "correct horse battery staple"


def _tokens(server: WebServer, secret: str) -> httpx.Response:
    return httpx.get(
        f"{server.url}/api/v1/auth/tokens", headers={"Authorization": f"Bearer {secret}"}
    )


@sqlite_only
def test_a_token_made_on_the_account_page_works_until_revoked(
    page: Page, no_js_page: Page, web_server: WebServer, screenshot: Screenshot
) -> None:
    web_server.make_user("maria", password=PASSWORD)
    page.goto("/me")
    page.wait_for_url(f"{web_server.url}/login?next=/me")
    page.get_by_label("Username").fill("maria")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(f"{web_server.url}/me")
    expect(page.get_by_role("heading", level=1)).to_have_text("My account")
    expect(page.get_by_role("link", name="My account (maria)")).to_have_attribute(
        "aria-current", "page"
    )
    page.get_by_label("Name (optional)").fill("laptop")
    page.get_by_role("button", name="Create token").click()
    secret_box = page.get_by_label("Token laptop", exact=True)
    expect(secret_box).to_be_visible()
    secret = secret_box.input_value()
    expect(page.get_by_role("status")).to_contain_text("shown this once")
    axe_check(page)
    screenshot(page, "account")
    listed = _tokens(web_server, secret)
    assert listed.status_code == 200
    [item] = [t for t in listed.json()["items"] if t["name"] == "laptop"]
    # Shown once: the page again lists the token without its secret.
    page.goto("/me")
    row = page.get_by_role("row").filter(has_text=item["id"])
    expect(row).to_contain_text("laptop")
    expect(row).to_contain_text("active")
    assert secret not in page.content()
    assert keyboard_walk(page)
    row.get_by_role("button", name="Revoke token laptop").click()
    page.wait_for_url(f"{web_server.url}/me#tokens")
    expect(page.get_by_role("row").filter(has_text=item["id"])).to_contain_text("revoked")
    refused = _tokens(web_server, secret)
    assert refused.status_code == 401 and refused.json()["error"] == "Token revoked"
    # Without JavaScript: the same page, signed out, sends to sign in.
    no_js_page.goto("/me")
    expect(no_js_page.get_by_role("heading", level=1)).to_have_text("Sign in")
