"""Database access for the audit log: adding entries and reading them newest first. There is
deliberately no way here to change or delete an entry."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from botarena.audit.models import AuditEntry
from botarena.db.paging import page_of


@dataclass(frozen=True)
class AuditFilter:
    """Which entries are asked for; every field None means no condition."""

    action: str | None = None
    actor_id: str | None = None
    actor_name: str | None = None
    target_id: str | None = None
    since: datetime | None = None
    until: datetime | None = None


class AuditRepository:
    """Queries on the audit log."""

    def __init__(self, session: Session) -> None:
        self.session = session

    def add(self, entry: AuditEntry) -> AuditEntry:
        self.session.add(entry)
        self.session.flush()
        return entry

    def page(self, where: AuditFilter, limit: int, offset: int) -> tuple[Sequence[AuditEntry], int]:
        """The entries matching ``where``, newest first."""
        query = select(AuditEntry)
        if where.action is not None:
            query = query.where(AuditEntry.action == where.action)
        if where.actor_id is not None:
            query = query.where(AuditEntry.actor_id == where.actor_id)
        if where.actor_name is not None:
            query = query.where(func.lower(AuditEntry.actor_name) == where.actor_name.lower())
        if where.target_id is not None:
            query = query.where(AuditEntry.target_id == where.target_id)
        if where.since is not None:
            query = query.where(AuditEntry.at >= where.since)
        if where.until is not None:
            query = query.where(AuditEntry.at < where.until)
        order = (AuditEntry.at.desc(), AuditEntry.id.desc())
        return page_of(self.session, query, order, limit, offset)
