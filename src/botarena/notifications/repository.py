"""The notification tables' queries: a user's endpoints, e-mail preference and deliveries."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import select
from sqlalchemy.orm import Session

from botarena.db.paging import page_of
from botarena.notifications.models import Delivery, EmailPreference, WebhookEndpoint


class NotificationRepository:
    def __init__(self, session: Session) -> None:
        self.session = session

    def endpoints_of(self, user_id: str) -> Sequence[WebhookEndpoint]:
        return self.session.scalars(
            select(WebhookEndpoint)
            .where(WebhookEndpoint.user_id == user_id)
            .order_by(WebhookEndpoint.created_at, WebhookEndpoint.id)
        ).all()

    def endpoint(self, endpoint_id: str) -> WebhookEndpoint | None:
        return self.session.get(WebhookEndpoint, endpoint_id)

    def email_of(self, user_id: str) -> EmailPreference | None:
        return self.session.get(EmailPreference, user_id)

    def deliveries_of(
        self, user_id: str, endpoint_id: str | None, limit: int, offset: int
    ) -> tuple[Sequence[Delivery], int]:
        """The user's deliveries, newest first (of one endpoint when asked)."""
        query = select(Delivery).where(Delivery.user_id == user_id)
        if endpoint_id is not None:
            query = query.where(Delivery.endpoint_id == endpoint_id)
        order = (Delivery.created_at.desc(), Delivery.id.desc())
        return page_of(self.session, query, order, limit, offset)
