"""Deliveries as jobs of the leased-job queue: claimed under a lease, retried with backoff."""

from __future__ import annotations

import functools

from botarena.jobs.backoff import Backoff
from botarena.jobs.table import JobTable
from botarena.notifications.models import Delivery, DeliveryStatus
from botarena.settings import Settings


@functools.cache
def delivery_jobs() -> JobTable[Delivery]:
    return JobTable(
        Delivery,
        queued=DeliveryStatus.QUEUED,
        running=DeliveryStatus.SENDING,
        waiting=Delivery.status == DeliveryStatus.QUEUED.value,
        holding=Delivery.status == DeliveryStatus.SENDING.value,
        order=(Delivery.created_at.asc(), Delivery.id.asc()),
        name="notifications",
    )


def retry_policy(settings: Settings) -> Backoff:
    """Up to ``notify_max_attempts`` attempts, waiting about base, twice that, … up to the cap."""
    return Backoff(
        max_attempts=settings.notify_max_attempts,
        base_seconds=settings.notify_retry_base,
        cap_seconds=max(settings.notify_retry_cap, settings.notify_retry_base),
    )


def lease_seconds(settings: Settings) -> float:
    """Long enough for one attempt (a webhook's timeout, or an SMTP exchange) and then some."""
    return 3 * settings.webhook_timeout + 30
