"""The clock and the referee of competition tests."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from botarena.db.engine import SessionFactory
from botarena.settings import Settings

from support.accounts import Account
from support.competing import Clock, install_clock
from support.referee import Referee


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> Clock:
    return install_clock(monkeypatch)


@pytest.fixture
def referee(
    client: TestClient, session_factory: SessionFactory, settings: Settings, admin: Account
) -> Referee:
    return Referee(client, session_factory, settings, admin)
