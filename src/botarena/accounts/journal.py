"""What accounts report as it happens (users made or changed, tokens made or revoked, one-time
login links made or used, web sign-ins and their failures), for the audit log to record in the
same transaction.

Accounts come before the audit log in the stages, so they only know this protocol; the audit
package implements it and the composition root (the app, the command line) hands one in.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Protocol

from sqlalchemy.orm import Session

from botarena.accounts.models import ApiToken, LoginLink, User


class UserChange(StrEnum):
    """What was changed about a user."""

    MADE_ADMIN = "made_admin"
    ADMIN_REMOVED = "admin_removed"
    DISABLED = "disabled"
    ENABLED = "enabled"


class TokenMethod(StrEnum):
    """How a token came to be."""

    PASSWORD = "password"  # noqa: S105 - the name of a sign-in method
    TOKEN = "token"  # noqa: S105 - asked for by a holder of another token
    NEW_USER = "new_user"
    ISSUED = "issued"  # by the server's own tooling (the demo)
    SESSION = "session"  # asked for on the account page, signed in with the pages' session


class SignInMethod(StrEnum):
    """How a web session was opened."""

    PASSWORD = "password"  # noqa: S105 - the name of a sign-in method
    LOGIN_LINK = "login_link"
    SIGN_UP = "sign_up"  # a new account, signed in at once


class Journal(Protocol):
    """Receives each account event before the service commits it.

    ``actor`` None means the journal's own actor (the command line, the demo); every method
    adds to ``session`` and never commits.
    """

    def user_created(self, session: Session, actor: User | None, user: User) -> None: ...

    def user_changed(
        self, session: Session, actor: User | None, user: User, change: UserChange
    ) -> None: ...

    def token_created(
        self, session: Session, actor: User | None, token: ApiToken, method: TokenMethod
    ) -> None: ...

    def token_revoked(self, session: Session, actor: User | None, token: ApiToken) -> None: ...

    def login_link_created(self, session: Session, actor: User | None, link: LoginLink) -> None: ...

    def login_link_used(self, session: Session, link: LoginLink) -> None: ...

    def signed_in(self, session: Session, user: User, method: SignInMethod) -> None: ...

    def sign_in_failed(
        self, session: Session, username: str | None, method: SignInMethod, reason: str
    ) -> None: ...
