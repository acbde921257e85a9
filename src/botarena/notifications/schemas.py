"""Request and response bodies of the notifications API."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from pydantic import Field

from botarena.api.schema import ApiModel
from botarena.notifications.kinds import SUBSCRIBABLE
from botarena.notifications.models import Delivery, EmailPreference, WebhookEndpoint

EVENT_NAMES = ", ".join(kind.value for kind in SUBSCRIBABLE)
# The names of kinds.SUBSCRIBABLE (a test holds the two together).
EventName = Literal[
    "build.finished",
    "submission.failed",
    "challenge.received",
    "tournament.round",
    "tournament.finished",
    "competition.phase",
]
EventList = Annotated[
    list[EventName],
    Field(max_length=16, description=f"Events to send: {EVENT_NAMES}."),
]
Description = Annotated[str, Field(max_length=200, pattern=r"^[^\x00-\x1f\x7f]*$")]


class WebhookRequest(ApiModel):
    """A new webhook: where to send, and which events."""

    url: str = Field(min_length=1, max_length=2048, description="https:// URL receiving POSTs.")
    events: EventList
    description: Description = ""


class WebhookChange(ApiModel):
    """What to change of a webhook; absent fields stay as they are."""

    url: str | None = Field(default=None, min_length=1, max_length=2048)
    events: EventList | None = None
    enabled: bool | None = Field(default=None, strict=True)
    description: Description | None = None


class WebhookOut(ApiModel):
    """A webhook as its owner sees it; its secret is never shown again."""

    id: str
    url: str
    description: str
    events: list[str]
    enabled: bool
    disabled_reason: str | None
    created_at: datetime
    updated_at: datetime

    @classmethod
    def of(cls, endpoint: WebhookEndpoint) -> WebhookOut:
        return cls(
            id=endpoint.id,
            url=endpoint.url,
            description=endpoint.description,
            events=endpoint.event_names,
            enabled=endpoint.enabled,
            disabled_reason=endpoint.disabled_reason,
            created_at=endpoint.created_at,
            updated_at=endpoint.updated_at,
        )


class WebhookCreated(WebhookOut):
    """A webhook with its signing secret, in this answer only."""

    secret: str = Field(description="Signs every delivery; shown this once.")


class DeliveryOut(ApiModel):
    """One delivery and how its attempts went."""

    id: str
    channel: str
    endpoint_id: str | None
    address: str | None
    event: str
    status: str
    attempts: int
    next_attempt_at: datetime | None
    last_status_code: int | None
    last_error: str | None
    response_excerpt: str | None
    created_at: datetime
    delivered_at: datetime | None

    @classmethod
    def of(cls, delivery: Delivery) -> DeliveryOut:
        return cls(
            id=delivery.id,
            channel=delivery.channel,
            endpoint_id=delivery.endpoint_id,
            address=delivery.address,
            event=delivery.event,
            status=delivery.status,
            attempts=delivery.attempts,
            next_attempt_at=delivery.not_before,
            last_status_code=delivery.last_status_code,
            last_error=delivery.last_error,
            response_excerpt=delivery.response_excerpt,
            created_at=delivery.created_at,
            delivered_at=delivery.delivered_at,
        )


class EmailSettings(ApiModel):
    """Where to e-mail you, and about what; a null address: no e-mail."""

    address: str | None = Field(default=None, max_length=254)
    events: EventList = Field(default_factory=list)


class EmailOut(EmailSettings):
    available: bool = Field(description="Whether this server sends e-mail at all.")

    @classmethod
    def of(cls, preference: EmailPreference | None, available: bool) -> EmailOut:
        if preference is None:
            return cls(address=None, events=[], available=available)
        return cls(address=preference.address, events=preference.event_names, available=available)
