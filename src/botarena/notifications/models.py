"""A user's webhook endpoints, e-mail preference, and the deliveries made for them."""

from __future__ import annotations

import json
from datetime import datetime
from enum import StrEnum

from sqlalchemy import Boolean, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from botarena.clock import utcnow
from botarena.db.base import Base


class WebhookEndpoint(Base):
    """A URL that receives signed JSON for the events it subscribes to."""

    __tablename__ = "webhook_endpoints"

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    user_id: Mapped[str] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    url: Mapped[str] = mapped_column(String(2048))
    description: Mapped[str] = mapped_column(String(200), default="")
    # A JSON list of event names (notifications/kinds.py).
    events: Mapped[str] = mapped_column(Text, default="[]")
    enabled: Mapped[bool] = mapped_column(Boolean, default=True)
    # Why it was switched off by the platform (a 410 Gone), if it was.
    disabled_reason: Mapped[str | None] = mapped_column(Text)
    # The signing secret, sealed with the server's key (notifications/sealing.py): never clear.
    sealed_secret: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)

    @property
    def event_names(self) -> list[str]:
        names: list[str] = json.loads(self.events)
        return names


class EmailPreference(Base):
    """Where a user wants e-mail, and about what (one per user)."""

    __tablename__ = "email_preferences"

    user_id: Mapped[str] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), primary_key=True
    )
    address: Mapped[str] = mapped_column(String(254))
    events: Mapped[str] = mapped_column(Text, default="[]")
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)

    @property
    def event_names(self) -> list[str]:
        names: list[str] = json.loads(self.events)
        return names


class DeliveryStatus(StrEnum):
    """queued → sending → delivered | failed, or back to queued for a retry."""

    QUEUED = "queued"
    SENDING = "sending"
    DELIVERED = "delivered"
    FAILED = "failed"


class Channel(StrEnum):
    WEBHOOK = "webhook"
    EMAIL = "email"


class Delivery(Base):
    """One event for one endpoint or e-mail address: a job of the leased-job queue."""

    __tablename__ = "notification_deliveries"
    __table_args__ = (
        Index("ix_notification_deliveries_queue", "status", "not_before"),
        Index("ix_notification_deliveries_user_created", "user_id", "created_at"),
    )

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    user_id: Mapped[str] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    channel: Mapped[str] = mapped_column(String(16))
    endpoint_id: Mapped[str | None] = mapped_column(
        ForeignKey("webhook_endpoints.id", ondelete="CASCADE"), index=True
    )
    # The e-mail address, for the e-mail channel.
    address: Mapped[str | None] = mapped_column(String(254))
    event: Mapped[str] = mapped_column(String(32))
    payload: Mapped[str] = mapped_column(Text)  # the JSON body, as sent
    status: Mapped[str] = mapped_column(String(16), default=DeliveryStatus.QUEUED.value)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    not_before: Mapped[datetime | None]
    lease_owner: Mapped[str | None] = mapped_column(String(64))
    lease_until: Mapped[datetime | None]
    last_error: Mapped[str | None] = mapped_column(Text)
    last_status_code: Mapped[int | None] = mapped_column(Integer)
    # The start of the receiver's last answer, at most 512 characters.
    response_excerpt: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)
    delivered_at: Mapped[datetime | None]

    def move_to(
        self, new: DeliveryStatus, *, reason: str | None = None, at: datetime | None = None
    ) -> None:
        """The job queue's status change (a delivery keeps no status history)."""
        del reason
        self.status = new.value
        self.updated_at = at or utcnow()
