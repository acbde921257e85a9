"""The audit log's one table: entries are added with the action they record and never changed.

The actor is kept as an id and a name snapshot rather than a foreign key, so an entry says
who acted even if the account is renamed or removed later.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from botarena.clock import utcnow
from botarena.db.base import Base


class AuditEntry(Base):
    """One recorded action."""

    __tablename__ = "audit_log"
    __table_args__ = (Index("ix_audit_log_at_id", "at", "id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    at: Mapped[datetime] = mapped_column(default=utcnow)
    # None for the system (the command line, the demo); actor_name says which.
    actor_id: Mapped[str | None] = mapped_column(String(32), index=True)
    actor_name: Mapped[str] = mapped_column(String(64))
    action: Mapped[str] = mapped_column(String(64), index=True)
    target_type: Mapped[str | None] = mapped_column(String(32))
    target_id: Mapped[str | None] = mapped_column(String(64), index=True)
    details: Mapped[str] = mapped_column(Text, default="{}")  # a JSON object
    client_address: Mapped[str | None] = mapped_column(String(64))
    request_id: Mapped[str | None] = mapped_column(String(64))
