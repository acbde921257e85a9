"""Refused codeUrl and ref values: each one a clear 422, and nothing stored."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from botarena.accounts.service import AccountService
from botarena.app import create_app
from botarena.db.engine import session_scope
from botarena.settings import Settings

from support.accounts import Account

REFUSED_URLS = [
    ("file:///etc/passwd", "https://"),
    ("ssh://git@github.com/a/b.git", "https://"),
    ("git://github.com/a/b.git", "https://"),
    ("git@github.com:a/b.git", ""),
    ("/srv/repos/bot", ""),
    ("./bot", ""),
    ("http://github.com/a/b.git", "https://"),
    ("https://user:secret@github.com/a/b.git", "credentials"),
    ("https://token@github.com/a/b.git", "credentials"),
    ("https://github.com", "path"),
    ("https://github.com/", "path"),
    ("https://localhost/a/b", "localhost"),
    ("https://LOCALHOST./a/b", "localhost"),
    ("https://api.localhost/a/b", "localhost"),
    ("https://127.0.0.1/a/b", "internal"),
    ("https://127.1/a/b", "internal"),
    ("https://2130706433/a/b", "internal"),
    ("https://0x7f000001/a/b", "internal"),
    ("https://0177.0.0.1/a/b", "internal"),
    ("https://017700000001/a/b", "internal"),
    ("https://0x7f.1/a/b", "internal"),
    ("https://10.0.0.8/a/b", "internal"),
    ("https://172.16.3.4/a/b", "internal"),
    ("https://192.168.1.1/a/b", "internal"),
    ("https://169.254.169.254/latest/meta-data", "internal"),
    ("https://100.64.0.1/a/b", "internal"),
    ("https://0.0.0.0/a/b", "internal"),
    ("https://0/a/b", "internal"),
    ("https://[::1]/a/b", "internal"),
    ("https://[::]/a/b", "internal"),
    ("https://[fe80::1%25eth0]/a/b", "internal"),
    ("https://[fc00::1]/a/b", "internal"),
    ("https://[::ffff:127.0.0.1]/a/b", "internal"),
    ("https://[::ffff:7f00:1]/a/b", "internal"),
    ("https://[::ffff:a00:1]/a/b", "internal"),
    ("https://[64:ff9b::a9fe:a9fe]/a/b", "internal"),
    ("https://[2002:c0a8:101::1]/a/b", "internal"),
]


@pytest.mark.parametrize(("code_url", "expected"), REFUSED_URLS)
def test_refused_code_url(
    client: TestClient, alice: Account, agent_id: str, code_url: str, expected: str
) -> None:
    answer = client.post(
        "/api/v1/submissions",
        json={"agentId": agent_id, "codeUrl": code_url},
        headers=alice.headers,
    )
    assert answer.status_code == 422, answer.text
    body = answer.json()
    assert body["error"].startswith("codeUrl"), body
    assert expected in body["error"], body
    assert body["fields"] == [{"field": "codeUrl", "message": body["error"]}]
    assert client.get("/api/v1/submissions").json()["total"] == 0
    # A refused submission takes no version number either.
    detail = client.get(f"/api/v1/agents/{agent_id}").json()
    assert detail["submissions"] == []


@pytest.mark.parametrize(
    "ref", ["-upload-pack=evil", "main..dev", "a b", "x~1", "refs/heads/", ".hidden", "a@{1}"]
)
def test_refused_ref(client: TestClient, alice: Account, agent_id: str, ref: str) -> None:
    answer = client.post(
        "/api/v1/submissions",
        json={"agentId": agent_id, "codeUrl": "https://git.example.com/a/b", "ref": ref},
        headers=alice.headers,
    )
    assert answer.status_code == 422
    assert answer.json()["error"].startswith("ref ")
    assert answer.json()["fields"][0]["field"] == "ref"
    assert client.get("/api/v1/submissions").json()["total"] == 0


@pytest.fixture
def permissive_settings(settings: Settings) -> Settings:
    return settings.model_copy(
        update={"git_allow_http": True, "git_allow_hosts": ("127.0.0.1:8080", "git.internal")}
    )


def test_allow_list_and_http_switch(permissive_settings: Settings) -> None:
    with TestClient(create_app(permissive_settings)) as permissive:
        token = _token(permissive)
        headers = {"Authorization": f"Bearer {token}"}
        agent = permissive.post(
            "/api/v1/agents", json={"name": "lab", "game": "rps"}, headers=headers
        ).json()
        for url, status in (
            ("http://127.0.0.1:8080/repo.git", 201),
            ("http://127.0.0.1:9999/repo.git", 422),
            ("http://git.internal/team/bot", 201),
            ("https://git.internal:4443/team/bot", 201),
            ("http://github.com/a/b", 201),
            ("http://10.1.1.1/a/b", 422),
        ):
            answer = permissive.post(
                "/api/v1/submissions",
                json={"agentId": agent["id"], "codeUrl": url},
                headers=headers,
            )
            assert answer.status_code == status, (url, answer.text)


def _token(client: TestClient) -> str:
    with session_scope(client.app.state.session_factory) as session:  # type: ignore[attr-defined]
        _user, issued = AccountService(session).create_user("labuser", None)
    return issued.secret
