"""The referee of tournament tests."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from botarena.db.engine import SessionFactory
from botarena.settings import Settings

from support.accounts import Account
from support.referee import Referee


@pytest.fixture
def referee(
    client: TestClient, session_factory: SessionFactory, settings: Settings, admin: Account
) -> Referee:
    return Referee(client, session_factory, settings, admin)
