"""Who acts and from where: the small value every audited service call is given.

Routes build it from the request (see :mod:`botarena.audit.deps`); the command line uses
:func:`ActionContext.system`. Services never read the request themselves.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

from botarena.accounts.models import User

SYSTEM_CLI = "system/cli"
ANONYMOUS = "anonymous"


@dataclass(frozen=True)
class ActionContext:
    """The actor (a user, or a named part of the system) and where the action came from."""

    actor_id: str | None
    actor_name: str
    client_address: str | None = None
    request_id: str | None = None

    @classmethod
    def system(cls, name: str = SYSTEM_CLI) -> ActionContext:
        """The platform itself acting, e.g. ``system/cli`` for commands run on the server."""
        return cls(actor_id=None, actor_name=name)

    @classmethod
    def of(
        cls, user: User | None, client_address: str | None, request_id: str | None
    ) -> ActionContext:
        """A request's context: its user (if signed in), address and request id."""
        if user is None:
            return cls(None, ANONYMOUS, client_address, request_id)
        return cls(user.id, user.username, client_address, request_id)

    def acting_as(self, user: User) -> ActionContext:
        """The same origin with ``user`` as the actor (a sign-in acts as the user it signs in)."""
        return replace(self, actor_id=user.id, actor_name=user.username)
