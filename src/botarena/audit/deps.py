"""FastAPI dependencies of the audit log: the context of an audited request.

``AuditContext`` in a route's signature gives the services who acts (the bearer's user),
from which address, and under which request id, without them reading the request.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request

from botarena.accounts.deps import OptionalUser, client_address
from botarena.audit.context import ActionContext
from botarena.audit.journal import AuditJournal


def request_id(request: Request) -> str | None:
    """The id the request-context middleware gave this request, if it ran."""
    value = getattr(request.state, "request_id", None)
    return value if isinstance(value, str) else None


def action_context(request: Request, user: OptionalUser) -> ActionContext:
    """Who makes this request and from where."""
    return ActionContext.of(user, client_address(request), request_id(request))


def journal_for(request: Request) -> AuditJournal:
    """Accounts' journal for one request (set as ``app.state.account_journal``); the actor is
    named by the account service itself (the user signing in, the caller revoking)."""
    return AuditJournal(ActionContext.of(None, client_address(request), request_id(request)))


AuditContext = Annotated[ActionContext, Depends(action_context)]
