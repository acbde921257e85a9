"""``/me/notifications``: one's webhooks (add, switch on or off, remove, rotate the secret, send
a test event), e-mail preference and delivery log, through the API's service.

A new or rotated secret is in the answer to the form that made it, and nowhere else (not in
the session, a redirect or the log); that answer is not stored by any cache.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from botarena.accounts.models import User
from botarena.api.deps import SessionDep, SettingsDep
from botarena.errors import AppError
from botarena.notifications.kinds import LABELS, SUBSCRIBABLE
from botarena.notifications.schemas import DeliveryOut, EmailOut, WebhookOut
from botarena.notifications.service import MadeEndpoint, NotificationService
from botarena.web.deps import TemplatesDep, Viewer, respond, sign_in_first

router = APIRouter()

PATH = "/me/notifications"
SHOWN_DELIVERIES = 50

TextField = Annotated[str, Form(max_length=2048)]
EventsField = Annotated[list[str], Form(max_length=16)]


@router.get(PATH, response_class=HTMLResponse, response_model=None)
def page(
    request: Request, session: SessionDep, settings: SettingsDep, pages: TemplatesDep, user: Viewer
) -> Response:
    """The notification settings and the delivery log."""
    if user is None:
        return sign_in_first(PATH)
    return _page(request, NotificationService(session, settings), pages, user, {})


@router.post(f"{PATH}/webhooks", response_class=HTMLResponse, response_model=None)
def create_webhook(
    request: Request,
    session: SessionDep,
    settings: SettingsDep,
    pages: TemplatesDep,
    user: Viewer,
    url: TextField = "",
    description: TextField = "",
    events: EventsField = [],  # noqa: B006 - FastAPI copies the default
) -> Response:
    """A new webhook, its secret shown in this answer only; the form again with the reason
    beside the field when it is refused (nothing made)."""
    if user is None:
        return sign_in_first(PATH)
    service = NotificationService(session, settings)
    try:
        made = service.create_endpoint(user, url.strip(), events, description.strip()[:200])
    except AppError as exc:
        if exc.status_code not in (400, 422):
            raise
        session.rollback()
        field = exc.fields[0].field if exc.fields else "url"
        form = {"url": url, "description": description, "events": events}
        extra = {"errors": {field: exc.fields[0].message if exc.fields else exc.error}}
        return _page(request, service, pages, user, {**extra, "form": form}, 400)
    return _with_secret(request, service, pages, user, made)


@router.post(
    f"{PATH}/webhooks/{{webhook_id}}/rotate", response_class=HTMLResponse, response_model=None
)
def rotate(
    webhook_id: str,
    request: Request,
    session: SessionDep,
    settings: SettingsDep,
    pages: TemplatesDep,
    user: Viewer,
) -> Response:
    """A new secret for the webhook, shown in this answer only."""
    if user is None:
        return sign_in_first(PATH)
    service = NotificationService(session, settings)
    return _with_secret(request, service, pages, user, service.rotate_secret(user, webhook_id))


@router.post(f"{PATH}/webhooks/{{webhook_id}}/test", response_model=None)
def send_test(
    webhook_id: str, session: SessionDep, settings: SettingsDep, user: Viewer
) -> RedirectResponse:
    """Queue a test event; the delivery log shows how it goes."""
    if user is None:
        return sign_in_first(PATH)
    NotificationService(session, settings).send_test(user, webhook_id)
    return RedirectResponse(f"{PATH}#deliveries", status_code=303)


@router.post(f"{PATH}/webhooks/{{webhook_id}}/switch", response_model=None)
def switch(
    webhook_id: str,
    session: SessionDep,
    settings: SettingsDep,
    user: Viewer,
    enabled: TextField = "",
) -> RedirectResponse:
    """Switch the webhook on (``enabled=on``) or off."""
    if user is None:
        return sign_in_first(PATH)
    service = NotificationService(session, settings)
    service.update_endpoint(user, webhook_id, enabled=enabled == "on")
    return RedirectResponse(f"{PATH}#webhooks", status_code=303)


@router.post(f"{PATH}/webhooks/{{webhook_id}}/delete", response_model=None)
def delete(
    webhook_id: str, session: SessionDep, settings: SettingsDep, user: Viewer
) -> RedirectResponse:
    """Remove the webhook and its deliveries."""
    if user is None:
        return sign_in_first(PATH)
    NotificationService(session, settings).delete_endpoint(user, webhook_id)
    return RedirectResponse(f"{PATH}#webhooks", status_code=303)


@router.post(f"{PATH}/email", response_class=HTMLResponse, response_model=None)
def save_email(
    request: Request,
    session: SessionDep,
    settings: SettingsDep,
    pages: TemplatesDep,
    user: Viewer,
    address: TextField = "",
    events: EventsField = [],  # noqa: B006 - FastAPI copies the default
) -> Response:
    """Where and about what to e-mail; an empty address stops e-mail."""
    if user is None:
        return sign_in_first(PATH)
    service = NotificationService(session, settings)
    try:
        service.set_email(user, address.strip() or None, events)
    except AppError as exc:
        if exc.status_code not in (400, 422):
            raise
        session.rollback()
        extra = {"email_errors": {"address": exc.fields[0].message if exc.fields else exc.error}}
        return _page(request, service, pages, user, extra, 400)
    return RedirectResponse(f"{PATH}#email", status_code=303)


def _with_secret(
    request: Request,
    service: NotificationService,
    pages: TemplatesDep,
    user: User,
    made: MadeEndpoint,
) -> HTMLResponse:
    answer = _page(request, service, pages, user, {"created": made})
    answer.headers["Cache-Control"] = "no-store"
    return answer


def _page(
    request: Request,
    service: NotificationService,
    pages: TemplatesDep,
    user: User,
    extra: dict[str, Any],
    status_code: int = 200,
) -> HTMLResponse:
    rows, total = service.deliveries(user, SHOWN_DELIVERIES, 0)
    context = {
        "webhooks": [WebhookOut.of(e) for e in service.endpoints(user)],
        "deliveries": [DeliveryOut.of(r) for r in rows],
        "delivery_total": total,
        "email": EmailOut.of(service.email(user), service.email_available),
        "events": [(kind.value, LABELS[kind]) for kind in SUBSCRIBABLE],
        "form": {"url": "", "description": "", "events": []},
        "errors": {},
        "email_errors": {},
        "created": None,
        **extra,
    }
    return respond(request, pages, user, "notifications.html", context, status_code=status_code)
