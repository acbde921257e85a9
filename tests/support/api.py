"""Short ways to make agents and submissions through the real API in tests."""

from __future__ import annotations

import io
import zipfile

from fastapi.testclient import TestClient

from support.accounts import Account


def create_agent(client: TestClient, account: Account, name: str, game: str = "connectx") -> str:
    """A new agent's id."""
    answer = client.post(
        "/api/v1/agents", json={"name": name, "game": game}, headers=account.headers
    )
    assert answer.status_code == 201, answer.text
    agent_id: str = answer.json()["id"]
    return agent_id


def submit_url(
    client: TestClient, account: Account, agent_id: str, url: str = "https://git.example.com/a/b"
) -> str:
    """A new submission's id (from a Git URL; nothing fetches it unless a builder runs)."""
    answer = client.post(
        "/api/v1/submissions", json={"agentId": agent_id, "codeUrl": url}, headers=account.headers
    )
    assert answer.status_code == 201, answer.text
    sub_id: str = answer.json()["submission"]["id"]
    return sub_id


def zip_files(members: dict[str, bytes]) -> bytes:
    """A zip archive holding ``members`` (name → contents)."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in members.items():
            archive.writestr(name, data)
    return buffer.getvalue()


def submit_archive(client: TestClient, account: Account, agent_id: str, data: bytes) -> str:
    """A new submission's id, from an uploaded zip archive."""
    answer = client.post(
        f"/api/v1/agents/{agent_id}/submissions",
        files={"archive": ("bot.zip", data, "application/zip")},
        headers=account.headers,
    )
    assert answer.status_code == 201, answer.text
    sub_id: str = answer.json()["submission"]["id"]
    return sub_id
