"""Response bodies of the audit API."""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

from botarena.api.schema import ApiModel
from botarena.audit.models import AuditEntry


class AuditEntryOut(ApiModel):
    """One entry: ``actor`` is the actor's name when it acted (``system/cli`` for commands run
    on the server), ``details`` what the action changed."""

    id: int
    at: datetime
    actor_id: str | None
    actor: str
    action: str
    target_type: str | None
    target_id: str | None
    details: dict[str, Any]
    client_address: str | None
    request_id: str | None

    @classmethod
    def of(cls, entry: AuditEntry) -> AuditEntryOut:
        details = json.loads(entry.details)
        return cls(
            id=entry.id,
            at=entry.at,
            actor_id=entry.actor_id,
            actor=entry.actor_name,
            action=entry.action,
            target_type=entry.target_type,
            target_id=entry.target_id,
            details=details if isinstance(details, dict) else {},
            client_address=entry.client_address,
            request_id=entry.request_id,
        )
