"""HTTP routes of the audit log: reading it (admins). There is no route that writes or
deletes an entry; other methods on ``/audit`` answer 405."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Query

from botarena.accounts.deps import CurrentUser
from botarena.api.deps import SessionDep
from botarena.api.pagination import PageDep
from botarena.api.schema import ISO_TIME, Page
from botarena.audit.actions import Action
from botarena.audit.repository import AuditFilter
from botarena.audit.schemas import AuditEntryOut
from botarena.audit.service import AuditLog

router = APIRouter(tags=["audit"])


@router.get("/audit")
def list_audit(
    user: CurrentUser,
    session: SessionDep,
    page: PageDep,
    action: Action | None = None,
    actor_id: Annotated[str | None, Query(alias="actorId", min_length=1, max_length=32)] = None,
    actor: Annotated[str | None, Query(min_length=1, max_length=64)] = None,
    target_id: Annotated[str | None, Query(alias="targetId", min_length=1, max_length=64)] = None,
    since: Annotated[
        datetime | None, Query(description="From this time on (ISO 8601)."), ISO_TIME
    ] = None,
    until: Annotated[
        datetime | None, Query(description="Before this time (ISO 8601)."), ISO_TIME
    ] = None,
) -> Page[AuditEntryOut]:
    """Audit entries, newest first (admins); filter by action, actor (id or name), target and
    time. Times without a zone are UTC."""
    where = AuditFilter(
        action=action.value if action else None,
        actor_id=actor_id,
        actor_name=actor,
        target_id=target_id,
        since=since,
        until=until,
    )
    rows, total = AuditLog(session).page(user, where, page.limit, page.offset)
    return Page[AuditEntryOut](
        items=[AuditEntryOut.of(row) for row in rows],
        total=total,
        limit=page.limit,
        offset=page.offset,
    )
