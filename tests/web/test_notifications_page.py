"""``/me/notifications`` through the pages: signed out it sends to sign in; a refused URL
comes back with its reason beside the field and nothing made; someone else's webhook is
not found."""

from __future__ import annotations

from fastapi.testclient import TestClient

from support.accounts import Account
from support.pages import page_of, sign_in

PATH = "/me/notifications"


def test_signed_out_it_sends_to_sign_in(client: TestClient) -> None:
    answer = client.get(PATH, follow_redirects=False)
    assert answer.status_code == 303
    assert answer.headers["location"] == f"/login?next={PATH}"


def test_a_refused_url_is_explained_and_another_users_webhook_is_not_found(
    client: TestClient, alice: Account, bob: Account
) -> None:
    made = client.post(
        "/api/v1/notifications/webhooks",
        json={"url": "https://93.184.215.14/hook", "events": ["build.finished"]},
        headers=bob.headers,
    )
    assert made.status_code == 201, made.text
    assert sign_in(client, "alice", "alice-password").status_code == 303
    token = page_of(client.get(PATH)).csrf()
    refused = client.post(
        f"{PATH}/webhooks",
        data={"csrf_token": token, "url": "https://127.0.0.1/hook", "events": "build.finished"},
    )
    assert refused.status_code == 400
    assert "internal address" in refused.text
    assert 'aria-invalid="true"' in refused.text
    assert client.get("/api/v1/notifications/webhooks", headers=alice.headers).json() == []
    theirs = made.json()["id"]
    for action in ("test", "rotate", "delete", "switch"):
        answer = client.post(f"{PATH}/webhooks/{theirs}/{action}", data={"csrf_token": token})
        assert answer.status_code == 404, action
    assert made.json()["secret"] not in client.get(PATH).text
