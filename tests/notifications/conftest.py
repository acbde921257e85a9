"""The notification tests' server: webhooks may reach the loopback receiver over http."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient

from botarena.app import create_app
from botarena.db.engine import SessionFactory
from botarena.notifications.workers import NotificationWorkers
from botarena.settings import Settings

from support.webhook_receiver import Receiver, webhook_receiver


@pytest.fixture
def settings(settings: Settings) -> Settings:
    return settings.model_copy(
        update={
            "webhook_allow_http": True,
            "webhook_allow_hosts": ("127.0.0.1",),
            "notify_retry_base": 0.0,
            "notify_retry_cap": 0.0,
            "notify_max_attempts": 3,
            "webhook_timeout": 5.0,
        }
    )


@pytest.fixture
def client(settings: Settings) -> Iterator[TestClient]:
    with TestClient(create_app(settings)) as test_client:
        yield test_client


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    with webhook_receiver() as running:
        yield running


@pytest.fixture
def worker(session_factory: SessionFactory, settings: Settings) -> NotificationWorkers:
    """The delivery worker, its passes run by the test (no thread)."""
    return NotificationWorkers(session_factory, settings, name="test-notifier")
