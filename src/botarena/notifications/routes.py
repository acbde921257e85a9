"""HTTP routes of notifications: one's webhooks, e-mail preference and delivery log."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Response, status

from botarena.accounts.deps import CurrentUser
from botarena.api.deps import SessionDep, SettingsDep
from botarena.api.pagination import PageDep
from botarena.api.schema import Page
from botarena.notifications.schemas import (
    DeliveryOut,
    EmailOut,
    EmailSettings,
    WebhookChange,
    WebhookCreated,
    WebhookOut,
    WebhookRequest,
)
from botarena.notifications.service import MadeEndpoint, NotificationService

router = APIRouter(prefix="/notifications", tags=["notifications"])


@router.get("/webhooks")
def list_webhooks(
    user: CurrentUser, session: SessionDep, settings: SettingsDep
) -> list[WebhookOut]:
    """Your webhooks; never their secrets."""
    return [WebhookOut.of(e) for e in NotificationService(session, settings).endpoints(user)]


@router.post("/webhooks", status_code=status.HTTP_201_CREATED)
def create_webhook(
    body: WebhookRequest, user: CurrentUser, session: SessionDep, settings: SettingsDep
) -> WebhookCreated:
    """A new webhook; its signing secret is in this answer only. The URL must reach a public
    address (422 otherwise)."""
    made = NotificationService(session, settings).create_endpoint(
        user, body.url, body.events, body.description
    )
    return _created(made)


@router.patch("/webhooks/{webhook_id}")
def change_webhook(
    webhook_id: str,
    body: WebhookChange,
    user: CurrentUser,
    session: SessionDep,
    settings: SettingsDep,
) -> WebhookOut:
    """Change a webhook's URL, events, description, or switch it on or off."""
    endpoint = NotificationService(session, settings).update_endpoint(
        user,
        webhook_id,
        url=body.url,
        events=body.events,
        enabled=body.enabled,
        description=body.description,
    )
    return WebhookOut.of(endpoint)


@router.delete("/webhooks/{webhook_id}", status_code=status.HTTP_204_NO_CONTENT)
def delete_webhook(
    webhook_id: str, user: CurrentUser, session: SessionDep, settings: SettingsDep
) -> Response:
    """Remove a webhook and its delivery log."""
    NotificationService(session, settings).delete_endpoint(user, webhook_id)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.post("/webhooks/{webhook_id}/rotate-secret")
def rotate_secret(
    webhook_id: str, user: CurrentUser, session: SessionDep, settings: SettingsDep
) -> WebhookCreated:
    """A new signing secret, in this answer only; the old one stops at once."""
    return _created(NotificationService(session, settings).rotate_secret(user, webhook_id))


@router.post("/webhooks/{webhook_id}/test", status_code=status.HTTP_202_ACCEPTED)
def test_webhook(
    webhook_id: str, user: CurrentUser, session: SessionDep, settings: SettingsDep
) -> DeliveryOut:
    """Queue a ``ping`` event to this webhook; follow it in the delivery log."""
    return DeliveryOut.of(NotificationService(session, settings).send_test(user, webhook_id))


@router.get("/deliveries")
def list_deliveries(
    user: CurrentUser,
    session: SessionDep,
    settings: SettingsDep,
    page: PageDep,
    webhook_id: Annotated[str | None, Query(alias="webhookId", max_length=32)] = None,
) -> Page[DeliveryOut]:
    """Your deliveries, newest first (``?webhookId=`` for one webhook's)."""
    rows, total = NotificationService(session, settings).deliveries(
        user, page.limit, page.offset, webhook_id
    )
    return Page[DeliveryOut](
        items=[DeliveryOut.of(r) for r in rows], total=total, limit=page.limit, offset=page.offset
    )


@router.get("/email")
def get_email(user: CurrentUser, session: SessionDep, settings: SettingsDep) -> EmailOut:
    """Your e-mail preference, and whether this server sends e-mail."""
    service = NotificationService(session, settings)
    return EmailOut.of(service.email(user), service.email_available)


@router.put("/email")
def put_email(
    body: EmailSettings, user: CurrentUser, session: SessionDep, settings: SettingsDep
) -> EmailOut:
    """Set where to e-mail you and about what; a null address stops e-mail."""
    service = NotificationService(session, settings)
    return EmailOut.of(service.set_email(user, body.address, body.events), service.email_available)


def _created(made: MadeEndpoint) -> WebhookCreated:
    return WebhookCreated(**WebhookOut.of(made.endpoint).model_dump(), secret=made.secret)
