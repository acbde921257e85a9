"""The audit log's rules: an entry is added in the transaction of the action it records, and
only admins read the log.

Later stages call :meth:`AuditLog.record` before they commit; nothing here commits, so an
action and its entry are written together or not at all.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from typing import Any

from sqlalchemy.orm import Session

from botarena.accounts.models import User
from botarena.audit.actions import Action
from botarena.audit.context import ActionContext
from botarena.audit.models import AuditEntry
from botarena.audit.repository import AuditFilter, AuditRepository
from botarena.clock import utcnow
from botarena.errors import forbidden


class AuditLog:
    """Adds entries (uncommitted) and reads them (admins)."""

    def __init__(self, session: Session) -> None:
        self.session = session
        self.entries = AuditRepository(session)

    def record(
        self,
        context: ActionContext,
        action: Action,
        *,
        target_type: str | None,
        target_id: str | None,
        details: Mapping[str, Any] | None = None,
    ) -> AuditEntry:
        """Add one entry to the caller's transaction; the caller commits."""
        entry = AuditEntry(
            at=utcnow(),
            actor_id=context.actor_id,
            actor_name=context.actor_name,
            action=action.value,
            target_type=target_type,
            target_id=target_id,
            details=json.dumps(_plain(details or {}), sort_keys=True),
            client_address=context.client_address,
            request_id=context.request_id,
        )
        return self.entries.add(entry)

    def page(
        self, viewer: User, where: AuditFilter, limit: int, offset: int
    ) -> tuple[Sequence[AuditEntry], int]:
        """Entries matching ``where``, newest first; admins only."""
        if not viewer.is_admin:
            raise forbidden("Only admins may read the audit log")
        since, until = _aware(where.since), _aware(where.until)
        bounded = AuditFilter(
            where.action, where.actor_id, where.actor_name, where.target_id, since, until
        )
        return self.entries.page(bounded, limit, offset)


def _aware(moment: datetime | None) -> datetime | None:
    """``moment`` in UTC; one given without a zone is read as UTC, like every time the API
    shows. A bound beyond what UTC can hold (9999-12-31T23:00-05:00) is the end of time."""
    if moment is None:
        return None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    try:
        return moment.astimezone(UTC)
    except OverflowError:
        edge = datetime.max if moment.year > 1 else datetime.min
        return edge.replace(tzinfo=UTC)


def _plain(value: Any) -> Any:
    """``value`` with times as ISO 8601 strings, ready for JSON."""
    if isinstance(value, Mapping):
        return {str(key): _plain(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(item) for item in value]
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, str | int | float | bool) or value is None:
        return value
    return str(value)
