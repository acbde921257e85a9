"""One event for one user becomes a delivery per matching webhook endpoint and e-mail."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from botarena.ids import new_id
from botarena.notifications.kinds import EventKind
from botarena.notifications.models import (
    Channel,
    Delivery,
    DeliveryStatus,
    EmailPreference,
    WebhookEndpoint,
)
from botarena.notifications.texts import Data, body, link
from botarena.settings import Settings


def fan_out(
    session: Session,
    settings: Settings,
    user_id: str,
    kind: EventKind,
    path: str,
    data: Data,
    now: datetime,
    *,
    endpoint_id: str | None = None,
) -> list[Delivery]:
    """Queue ``kind`` for every enabled endpoint of the user that wants it, and their e-mail
    when they want it and the server sends e-mail (``endpoint_id``: for that endpoint only,
    whatever it subscribes to: a test); the caller commits."""
    payload = body(kind, now, link(settings, path), data)
    made: list[Delivery] = []
    if endpoint_id is not None:
        made.append(_delivery(user_id, kind, payload, now, endpoint_id=endpoint_id))
        session.add_all(made)
        return made
    endpoints = session.scalars(
        select(WebhookEndpoint).where(
            WebhookEndpoint.user_id == user_id, WebhookEndpoint.enabled.is_(True)
        )
    ).all()
    for endpoint in endpoints:
        if kind.value in endpoint.event_names:
            made.append(_delivery(user_id, kind, payload, now, endpoint_id=endpoint.id))
    has_mail = settings.smtp_url is not None and bool(settings.smtp_url.get_secret_value())
    preference = session.get(EmailPreference, user_id) if has_mail else None
    if preference is not None and kind.value in preference.event_names:
        made.append(_delivery(user_id, kind, payload, now, address=preference.address))
    session.add_all(made)
    return made


def _delivery(
    user_id: str,
    kind: EventKind,
    payload: str,
    now: datetime,
    *,
    endpoint_id: str | None = None,
    address: str | None = None,
) -> Delivery:
    return Delivery(
        id=new_id("dlv"),
        user_id=user_id,
        channel=Channel.WEBHOOK.value if endpoint_id else Channel.EMAIL.value,
        endpoint_id=endpoint_id,
        address=address,
        event=kind.value,
        payload=payload,
        status=DeliveryStatus.QUEUED.value,
        attempts=0,
        created_at=now,
        updated_at=now,
    )
