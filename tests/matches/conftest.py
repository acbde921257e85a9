"""Fixtures for matches: submissions built for real, and a server that plays matches."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient

from botarena.app import build_backend, create_app
from botarena.db.engine import SessionFactory
from botarena.settings import Settings

from support.accounts import Account
from support.api import create_agent, submit_archive, zip_files
from support.building import Built, build_now
from support.rows import submission_row


@pytest.fixture
def play_settings(settings: Settings, backend_settings: dict[str, str]) -> Settings:
    """Settings that build with each backend and play matches, with short leases."""
    return settings.model_copy(
        update={
            "matches_enabled": True,
            "match_lease_seconds": 4.0,
            "executor_capacity": 1,
            **backend_settings,
        }
    )


@pytest.fixture
def built(
    client: TestClient, session_factory: SessionFactory, play_settings: Settings
) -> Iterator[Built]:
    """``built(account, name, files)``: a new agent whose submission of ``files`` was built
    (and activated unless ``activate=False``), of ``game`` (ConnectX by default); returns
    (agent id, submission id)."""
    backend = build_backend(play_settings)

    def make(
        account: Account,
        name: str,
        files: dict[str, bytes],
        *,
        activate: bool = True,
        game: str = "connectx",
    ) -> tuple[str, str]:
        agent = create_agent(client, account, name, game)
        sub = submit_archive(client, account, agent, zip_files(files))
        build_now(session_factory, play_settings, backend, sub)
        row = submission_row(session_factory, sub)
        assert row.status == "success", row.build_log
        if activate:
            answer = client.post(f"/api/v1/submissions/{sub}/activate", headers=account.headers)
            assert answer.status_code == 200, answer.text
        return agent, sub

    yield make
    close = getattr(backend, "close", None)
    if callable(close):
        close()


@pytest.fixture
def playing(play_settings: Settings) -> Iterator[TestClient]:
    """A second server on the same database that dispatches matches to its own executor."""
    with TestClient(create_app(play_settings)) as app:
        yield app
