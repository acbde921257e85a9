"""One attempt at one delivery: claimed in a short transaction, sent outside any, recorded
in another only while the worker still holds it.

A webhook is delivered by a 2xx answer; 410 Gone switches its endpoint off and ends the
delivery ``failed``; anything else (another status, no answer, an address refused at
resolution) is retried with backoff until the last attempt, then ``failed``. An e-mail is
delivered once the SMTP server accepts it.
"""

from __future__ import annotations

import http.client
import json
import smtplib
import time
from dataclasses import dataclass
from datetime import datetime, timedelta

import structlog
from sqlalchemy import delete
from sqlalchemy.orm import Session

from botarena.clock import utcnow
from botarena.jobs.queue import JobQueue
from botarena.notifications import mail, posting
from botarena.notifications.models import Channel, Delivery, DeliveryStatus, WebhookEndpoint
from botarena.notifications.queue import delivery_jobs, retry_policy
from botarena.notifications.sealing import Sealer, SealError
from botarena.notifications.signing import (
    DELIVERY_HEADER,
    EVENT_HEADER,
    SIGNATURE_HEADER,
    signature,
)
from botarena.notifications.targets import TargetError, check_url, resolve
from botarena.notifications.texts import email_text
from botarena.settings import Settings

log = structlog.get_logger(__name__)


@dataclass(frozen=True)
class Claimed:
    """What a worker needs to send a delivery, read while claiming it."""

    id: str
    channel: str
    event: str
    payload: str
    attempts: int
    url: str | None
    secret: str | None
    address: str | None
    endpoint_enabled: bool


@dataclass(frozen=True)
class Outcome:
    delivered: bool
    error: str | None = None
    status_code: int | None = None
    excerpt: str | None = None
    # No retry: the endpoint said 410 Gone, or it is switched off or gone.
    final: bool = False
    gone: bool = False


def claim(session: Session, settings: Settings, worker: str, lease: float) -> Claimed | None:
    """The next delivery due, held by ``worker``; the caller commits."""
    row = JobQueue(session, delivery_jobs()).claim(worker, lease)
    if row is None:
        return None
    url = secret = None
    enabled = True
    if row.endpoint_id is not None:
        endpoint = session.get(WebhookEndpoint, row.endpoint_id)
        if endpoint is None:
            enabled = False
        else:
            url, enabled = endpoint.url, endpoint.enabled
            try:
                secret = Sealer.for_settings(settings).open(endpoint.sealed_secret, endpoint.id)
            except SealError:
                enabled = False
    session.flush()
    return Claimed(
        row.id,
        row.channel,
        row.event,
        row.payload,
        row.attempts,
        url,
        secret,
        row.address,
        enabled,
    )


def send(job: Claimed, settings: Settings) -> Outcome:
    """Try once; never raises for the receiver's failures."""
    if job.channel == Channel.EMAIL.value:
        return _send_email(job, settings)
    return _send_webhook(job, settings)


def _send_webhook(job: Claimed, settings: Settings) -> Outcome:
    if not job.endpoint_enabled or job.url is None or job.secret is None:
        return Outcome(False, "the endpoint is switched off or its secret unreadable", final=True)
    try:
        target = check_url(job.url, settings)
        addresses = resolve(target, settings)
    except TargetError as exc:
        return Outcome(False, f"refused: {exc}")
    body = job.payload.encode()
    headers = {
        SIGNATURE_HEADER: signature(job.secret, int(time.time()), body),
        EVENT_HEADER: job.event,
        DELIVERY_HEADER: job.id,
    }
    try:
        answer = posting.post(target, addresses[0], body, headers, settings.webhook_timeout)
    except (OSError, ValueError) as exc:
        return Outcome(False, f"no answer: {type(exc).__name__}: {exc}"[:500])
    except http.client.HTTPException as exc:  # not HTTP, or cut off midway
        return Outcome(False, f"bad answer: {type(exc).__name__}"[:500])
    if 200 <= answer.status < 300:
        return Outcome(True, status_code=answer.status, excerpt=answer.excerpt)
    if answer.status == 410:
        return Outcome(
            False, "410 Gone: endpoint switched off", answer.status, answer.excerpt, True, True
        )
    return Outcome(False, f"HTTP {answer.status}", answer.status, answer.excerpt)


def _send_email(job: Claimed, settings: Settings) -> Outcome:
    try:
        server = mail.smtp_server(settings)
    except mail.MailConfigError as exc:
        return Outcome(False, str(exc))
    if server is None or job.address is None:
        return Outcome(False, "e-mail is not configured on this server", final=True)
    subject, text = email_text(job.event, json.loads(job.payload))
    try:
        mail.send(
            server,
            mail.message(settings.smtp_from, job.address, subject, text),
            settings.webhook_timeout,
        )
    except (OSError, smtplib.SMTPException) as exc:
        return Outcome(False, f"SMTP: {type(exc).__name__}: {exc}"[:500])
    return Outcome(True)


def record(
    session: Session,
    settings: Settings,
    job: Claimed,
    worker: str,
    outcome: Outcome,
    now: datetime | None = None,
) -> bool:
    """Write the attempt's outcome while ``worker`` still holds the delivery (else nothing,
    False); the caller commits."""
    now = now or utcnow()
    queue = JobQueue(session, delivery_jobs())
    row = queue.held(job.id, worker)
    if row is None:
        return False
    row.last_error = outcome.error
    row.last_status_code = outcome.status_code
    row.response_excerpt = outcome.excerpt
    if outcome.delivered:
        queue.release(row)
        row.move_to(DeliveryStatus.DELIVERED, at=now)
        row.delivered_at = now
    elif outcome.final or not queue.hand_back(
        row, outcome.error or "failed", retry_policy(settings), now=now
    ):
        queue.release(row)
        row.move_to(DeliveryStatus.FAILED, at=now)
    if outcome.gone and row.endpoint_id is not None:
        endpoint = session.get(WebhookEndpoint, row.endpoint_id)
        if endpoint is not None:
            endpoint.enabled = False
            endpoint.disabled_reason = "the receiver answered 410 Gone"
            endpoint.updated_at = now
    session.flush()
    log.info(
        "notification attempt",
        delivery=job.id,
        channel=job.channel,
        kind=job.event,
        attempt=job.attempts,
        status=row.status,
        http_status=outcome.status_code,
        error=outcome.error,
    )
    return True


def reap(session: Session, settings: Settings, now: datetime | None = None) -> int:
    """Deliveries whose worker vanished (lease run out) go back to the queue at once, or end
    ``failed`` after their last attempt; the caller commits."""
    now = now or utcnow()
    queue = JobQueue(session, delivery_jobs())
    rows = list(queue.expired(now))
    for row in rows:
        row.last_error = "the worker went away during the attempt"
        if not queue.hand_back(row, "worker gone", retry_policy(settings), at_once=True, now=now):
            row.move_to(DeliveryStatus.FAILED, at=now)
    session.flush()
    return len(rows)


# Ended deliveries are kept this long for the log, then removed.
KEPT = timedelta(days=30)
_ENDED = (DeliveryStatus.DELIVERED.value, DeliveryStatus.FAILED.value)


def prune(session: Session, now: datetime | None = None) -> int:
    """Remove deliveries that ended more than :data:`KEPT` ago; the caller commits."""
    before = (now or utcnow()) - KEPT
    result = session.execute(
        delete(Delivery).where(Delivery.status.in_(_ENDED), Delivery.updated_at < before)
    )
    return int(getattr(result, "rowcount", 0) or 0)
