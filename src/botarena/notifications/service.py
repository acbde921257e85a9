"""The notification rules: a user manages their own webhooks and e-mail preference and reads
their own deliveries, nobody else's (admins included: these are private settings)."""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy.orm import Session

from botarena.accounts.models import User
from botarena.clock import utcnow
from botarena.errors import bad_request, invalid, not_found
from botarena.ids import new_id
from botarena.notifications.fanout import fan_out
from botarena.notifications.kinds import SUBSCRIBABLE, EventKind
from botarena.notifications.models import Delivery, EmailPreference, WebhookEndpoint
from botarena.notifications.repository import NotificationRepository
from botarena.notifications.sealing import Sealer, new_signing_secret
from botarena.notifications.targets import TargetError, check_url, resolve
from botarena.settings import Settings

MAX_ENDPOINTS = 10
_EMAIL = re.compile(r"^[^@\s<>,;\"]{1,64}@[A-Za-z0-9.-]{1,253}\.[A-Za-z]{2,63}$")


@dataclass(frozen=True)
class MadeEndpoint:
    """An endpoint and its signing secret, in the one answer that shows it."""

    endpoint: WebhookEndpoint
    secret: str


def check_events(names: Sequence[str], field_name: str = "events") -> list[str]:
    """The subscribable events named, in their usual order; 422 for any other name."""
    known = {kind.value for kind in SUBSCRIBABLE}
    unknown = sorted(set(names) - known)
    if unknown:
        raise invalid(
            field_name, f"Unknown event {unknown[0]!r}; known: {', '.join(sorted(known))}"
        )
    return [kind.value for kind in SUBSCRIBABLE if kind.value in names]


class NotificationService:
    """Each public method that writes is one unit of work and commits."""

    def __init__(self, session: Session, settings: Settings) -> None:
        self.session = session
        self.settings = settings
        self.rows = NotificationRepository(session)

    def endpoints(self, user: User) -> Sequence[WebhookEndpoint]:
        return self.rows.endpoints_of(user.id)

    def create_endpoint(
        self, user: User, url: str, events: Sequence[str], description: str = ""
    ) -> MadeEndpoint:
        """A new endpoint; its URL must pass the address checks now (its name resolved, every
        address public). The secret is returned this once and kept only sealed."""
        checked = self._checked_url(url)
        names = check_events(events)
        if len(self.rows.endpoints_of(user.id)) >= MAX_ENDPOINTS:
            raise bad_request(f"At most {MAX_ENDPOINTS} webhooks per user")
        now = utcnow()
        endpoint = WebhookEndpoint(
            id=new_id("whk"),
            user_id=user.id,
            url=checked,
            description=description,
            events=json.dumps(names),
            enabled=True,
            created_at=now,
            updated_at=now,
        )
        secret = new_signing_secret()
        endpoint.sealed_secret = Sealer.for_settings(self.settings).seal(secret, endpoint.id)
        self.session.add(endpoint)
        self.session.commit()
        return MadeEndpoint(endpoint, secret)

    def update_endpoint(
        self,
        user: User,
        endpoint_id: str,
        *,
        url: str | None = None,
        events: Sequence[str] | None = None,
        enabled: bool | None = None,
        description: str | None = None,
    ) -> WebhookEndpoint:
        endpoint = self._own(user, endpoint_id)
        if url is not None:
            endpoint.url = self._checked_url(url)
        if events is not None:
            endpoint.events = json.dumps(check_events(events))
        if enabled is not None:
            endpoint.enabled = enabled
            if enabled:
                endpoint.disabled_reason = None
        if description is not None:
            endpoint.description = description
        endpoint.updated_at = utcnow()
        self.session.commit()
        return endpoint

    def delete_endpoint(self, user: User, endpoint_id: str) -> None:
        """The endpoint and its deliveries go."""
        endpoint = self._own(user, endpoint_id)
        self.session.delete(endpoint)
        self.session.commit()

    def rotate_secret(self, user: User, endpoint_id: str) -> MadeEndpoint:
        """A new secret, shown this once; the old one signs nothing from now on."""
        endpoint = self._own(user, endpoint_id)
        secret = new_signing_secret()
        endpoint.sealed_secret = Sealer.for_settings(self.settings).seal(secret, endpoint.id)
        endpoint.updated_at = utcnow()
        self.session.commit()
        return MadeEndpoint(endpoint, secret)

    def send_test(self, user: User, endpoint_id: str) -> Delivery:
        """A ``ping`` delivery to this endpoint, queued like any other."""
        endpoint = self._own(user, endpoint_id)
        if not endpoint.enabled:
            raise bad_request("The webhook is switched off; switch it on to test it")
        now = utcnow()
        made = fan_out(
            self.session,
            self.settings,
            user.id,
            EventKind.PING,
            "/me/notifications",
            {"message": "A test event from botarena", "endpointId": endpoint.id},
            now,
            endpoint_id=endpoint.id,
        )
        self.session.commit()
        return made[0]

    def deliveries(
        self, user: User, limit: int, offset: int, endpoint_id: str | None = None
    ) -> tuple[Sequence[Delivery], int]:
        """The user's own deliveries, newest first (of one of their endpoints: none of
        anyone else's, whatever id is named)."""
        return self.rows.deliveries_of(user.id, endpoint_id, limit, offset)

    def email(self, user: User) -> EmailPreference | None:
        return self.rows.email_of(user.id)

    def set_email(
        self, user: User, address: str | None, events: Sequence[str]
    ) -> EmailPreference | None:
        """Where and about what to e-mail the user; no address: no e-mail."""
        names = check_events(events)
        preference = self.rows.email_of(user.id)
        if not address:
            if preference is not None:
                self.session.delete(preference)
            self.session.commit()
            return None
        if not _EMAIL.match(address) or len(address) > 254:
            raise invalid("address", "Not an e-mail address")
        if preference is None:
            preference = EmailPreference(user_id=user.id, address=address, events="[]")
            self.session.add(preference)
        preference.address = address
        preference.events = json.dumps(names)
        preference.updated_at = utcnow()
        self.session.commit()
        return preference

    @property
    def email_available(self) -> bool:
        url = self.settings.smtp_url
        return url is not None and bool(url.get_secret_value())

    def _own(self, user: User, endpoint_id: str) -> WebhookEndpoint:
        endpoint = self.rows.endpoint(endpoint_id)
        if endpoint is None or endpoint.user_id != user.id:
            raise not_found("No such webhook")
        return endpoint

    def _checked_url(self, url: str) -> str:
        try:
            target = check_url(url, self.settings)
            resolve(target, self.settings)
        except TargetError as exc:
            raise invalid("url", str(exc)) from exc
        return target.url
