"""A competition's members are told when its phase moves on: deliveries queued in the
transaction that notes the new phase, once per change."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
from fastapi.testclient import TestClient
from pydantic import SecretStr
from sqlalchemy import select

from botarena.db.engine import SessionFactory
from botarena.finals.director import FinalsDirector
from botarena.notifications.models import Delivery
from botarena.settings import Settings

from support.accounts import Account
from support.competing import START, Clock, create_competition


@pytest.fixture
def settings(settings: Settings) -> Settings:
    """E-mail configured (nothing is sent: no notification worker runs here)."""
    return settings.model_copy(update={"smtp_url": SecretStr("smtp://127.0.0.1:1")})


def test_members_are_told_when_the_phase_moves_on(
    client: TestClient,
    session_factory: SessionFactory,
    settings: Settings,
    admin: Account,
    alice: Account,
    bob: Account,
    clock: Clock,
) -> None:
    made = create_competition(client, admin)
    for account in (alice, bob):
        answer = client.put(
            "/api/v1/notifications/email",
            json={"address": f"{account.username}@example.com", "events": ["competition.phase"]},
            headers=account.headers,
        )
        assert answer.status_code == 200, answer.text
    joined = client.post(f"/api/v1/competitions/{made['id']}/join", json={}, headers=alice.headers)
    assert joined.status_code == 200, joined.text
    director = FinalsDirector(session_factory, settings)

    director.tick()
    assert _phase_events(session_factory) == []  # still upcoming: nothing moved on
    clock.set(START + timedelta(minutes=1))
    director.tick()
    director.tick()  # noted once
    clock.set(START + timedelta(days=10, minutes=1))
    director.tick()
    assert _phase_events(session_factory) == [(alice.id, "open"), (alice.id, "closed")]
    frozen = client.post(f"/api/v1/competitions/{made['id']}/freeze", headers=admin.headers)
    assert frozen.status_code == 200, frozen.text
    director.tick()
    assert _phase_events(session_factory)[-1] == (alice.id, "frozen")
    assert len(_phase_events(session_factory)) == 3


def _phase_events(factory: SessionFactory) -> list[tuple[str, str]]:
    with factory() as session:
        rows = session.scalars(
            select(Delivery)
            .where(Delivery.event == "competition.phase")
            .order_by(Delivery.created_at, Delivery.id)
        ).all()
        return [(row.user_id, json.loads(row.payload)["data"]["phase"]) for row in rows]
