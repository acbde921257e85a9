"""Security headers on every kind of response, and ``/docs`` served entirely from the package."""

from __future__ import annotations

import re
from html.parser import HTMLParser

import pytest
from fastapi.testclient import TestClient
from httpx import Response

from botarena.agents.models import Submission
from botarena.agents.status import SubmissionStatus
from botarena.db.engine import SessionFactory

from support.accounts import Account
from support.api import create_agent, submit_url


def _assert_secure(answer: Response, *, page: bool = False) -> None:
    headers = answer.headers
    assert headers["x-content-type-options"] == "nosniff"
    assert headers["referrer-policy"] == "no-referrer"
    assert headers["x-frame-options"] == "DENY"
    policy = headers["content-security-policy"]
    assert "frame-ancestors 'none'" in policy
    if page:
        assert "default-src 'self'" in policy
        assert "unsafe-eval" not in policy and "script-src 'self' 'unsafe-inline'" not in policy
    else:
        assert "default-src 'none'" in policy


def test_json_answers_carry_the_headers(client: TestClient, alice: Account) -> None:
    _assert_secure(client.get("/api/v1/leaderboard", params={"game": "connectx"}))
    _assert_secure(client.get("/api/v1/me", headers=alice.headers))
    _assert_secure(client.get("/healthz"))
    _assert_secure(client.get("/openapi.json"))


@pytest.mark.parametrize(
    ("method", "path", "body", "status"),
    [
        ("GET", "/api/v1/nope", None, 404),
        ("PUT", "/api/v1/agents", None, 405),
        ("POST", "/api/v1/agents", {"name": 5}, 422),
        ("GET", "/api/v1/me", None, 401),
        ("GET", "/static/nope.js", None, 404),
    ],
)
def test_errors_carry_the_headers(
    client: TestClient,
    alice: Account,
    method: str,
    path: str,
    body: object,
    status: int,
) -> None:
    headers = alice.headers if method == "POST" else {}
    answer = client.request(method, path, json=body, headers=headers)
    assert answer.status_code == status
    _assert_secure(answer)


def test_a_refused_upload_carries_the_headers(client: TestClient, alice: Account) -> None:
    answer = client.post(
        "/api/v1/submissions",
        content=b"x" * (3 * 1024 * 1024),
        headers={**alice.headers, "Content-Type": "application/json"},
    )
    assert answer.status_code == 413
    _assert_secure(answer)


def test_an_unexpected_failure_carries_the_headers(client: TestClient) -> None:
    def explode() -> None:
        raise RuntimeError("boom")

    client.app.add_api_route("/boom-for-test", explode)  # type: ignore[attr-defined]
    quiet = TestClient(client.app, raise_server_exceptions=False)
    answer = quiet.get("/boom-for-test")
    assert answer.status_code == 500
    assert answer.json()["error"] == "Internal server error"
    assert "boom" not in answer.text
    _assert_secure(answer)


def test_a_stream_carries_the_headers(
    client: TestClient, alice: Account, session_factory: SessionFactory
) -> None:
    sub = submit_url(client, alice, create_agent(client, alice, "streamer"))
    with session_factory() as session:
        row = session.get(Submission, sub)
        assert row is not None
        for status in (SubmissionStatus.BUILDING, SubmissionStatus.BUILD_FAILED):
            row.move_to(status)
            session.flush()
        session.commit()
    with client.stream("GET", f"/api/v1/submissions/{sub}/events") as answer:
        assert answer.headers["content-type"].startswith("text/event-stream")
        lines = list(answer.iter_lines())
    _assert_secure(answer)
    assert any('"build_failed"' in line for line in lines)


class _Assets(HTMLParser):
    """Every script, stylesheet and icon a page loads, and its inline scripts' nonces."""

    def __init__(self) -> None:
        super().__init__()
        self.urls: list[str] = []
        self.inline_nonces: list[str | None] = []
        self._in_inline_script = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = dict(attrs)
        if tag == "script" and values.get("src"):
            self.urls.append(values["src"] or "")
        elif tag == "script":
            self.inline_nonces.append(values.get("nonce"))
        elif tag == "link" and values.get("href"):
            self.urls.append(values["href"] or "")


def test_docs_load_only_what_the_server_serves(client: TestClient) -> None:
    page = client.get("/docs")
    assert page.status_code == 200
    assert page.headers["content-type"].startswith("text/html")
    _assert_secure(page, page=True)
    assets = _Assets()
    assets.feed(page.text)
    assert len(assets.urls) >= 3  # the bundle, its stylesheet, the icon
    for url in assets.urls:
        assert url.startswith("/static/"), f"{url} is not served by botarena"
        served = client.get(url)
        assert served.status_code == 200, url
        assert len(served.content) > 0
        _assert_secure(served)
    assert not re.search(r"https?://", page.text), "the page names another site"
    # Its one inline script (Swagger UI's start) runs only because the policy names its nonce.
    policy = page.headers["content-security-policy"]
    assert len(assets.inline_nonces) == 1 and assets.inline_nonces[0]
    assert f"'nonce-{assets.inline_nonces[0]}'" in policy
    again = client.get("/docs").headers["content-security-policy"]
    assert again != policy, "a nonce is used once"
    assert client.get("/docs").text.count("/openapi.json") == 1
    assert client.get("/redoc").status_code == 404


def test_swagger_bundle_is_the_vendored_one(client: TestClient) -> None:
    bundle = client.get("/static/swagger-ui/swagger-ui-bundle.js")
    assert bundle.headers["content-type"].startswith(("text/javascript", "application/javascript"))
    assert b"SwaggerUIBundle" in bundle.content
    assert client.get("/static/swagger-ui/LICENSE").status_code == 200
