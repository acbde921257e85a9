"""The audit log as accounts' journal: users made or changed, tokens made or revoked,
one-time login links made or used, web sign-ins and their failures."""

from __future__ import annotations

from sqlalchemy.orm import Session

from botarena.accounts.journal import SignInMethod, TokenMethod, UserChange
from botarena.accounts.models import ApiToken, LoginLink, User
from botarena.audit.actions import Action
from botarena.audit.context import ActionContext
from botarena.audit.service import AuditLog

# A name tried at sign-in may be anything up to the form's limit; this much of it is kept.
USERNAME_KEPT = 64
_CHANGES = {
    UserChange.MADE_ADMIN: Action.USER_MADE_ADMIN,
    UserChange.ADMIN_REMOVED: Action.USER_ADMIN_REMOVED,
    UserChange.DISABLED: Action.USER_DISABLED,
    UserChange.ENABLED: Action.USER_ENABLED,
}


class AuditJournal:
    """Records account events with ``context``'s origin; the actor is the user the service
    names, or ``context``'s own when it names none."""

    def __init__(self, context: ActionContext) -> None:
        self.context = context

    def user_created(self, session: Session, actor: User | None, user: User) -> None:
        AuditLog(session).record(
            self._by(actor),
            Action.USER_CREATED,
            target_type="user",
            target_id=user.id,
            details={"username": user.username, "role": user.role},
        )

    def user_changed(
        self, session: Session, actor: User | None, user: User, change: UserChange
    ) -> None:
        AuditLog(session).record(
            self._by(actor),
            _CHANGES[change],
            target_type="user",
            target_id=user.id,
            details={"username": user.username, "role": user.role},
        )

    def token_created(
        self, session: Session, actor: User | None, token: ApiToken, method: TokenMethod
    ) -> None:
        AuditLog(session).record(
            self._by(actor),
            Action.TOKEN_CREATED,
            target_type="token",
            target_id=token.id,
            details={
                "userId": token.user_id,
                "username": token.user.username,
                "name": token.name,
                "method": method.value,
                "expiresAt": token.expires_at,
            },
        )

    def token_revoked(self, session: Session, actor: User | None, token: ApiToken) -> None:
        AuditLog(session).record(
            self._by(actor),
            Action.TOKEN_REVOKED,
            target_type="token",
            target_id=token.id,
            details={"userId": token.user_id, "username": token.user.username},
        )

    def login_link_created(self, session: Session, actor: User | None, link: LoginLink) -> None:
        AuditLog(session).record(
            self._by(actor),
            Action.LOGIN_LINK_CREATED,
            target_type="login_link",
            target_id=link.id,
            details={
                "userId": link.user_id,
                "username": link.user.username,
                "expiresAt": link.expires_at,
            },
        )

    def login_link_used(self, session: Session, link: LoginLink) -> None:
        # The link's own user acts: whoever held the secret signed in as them.
        AuditLog(session).record(
            self.context.acting_as(link.user),
            Action.LOGIN_LINK_USED,
            target_type="login_link",
            target_id=link.id,
            details={"userId": link.user_id, "username": link.user.username},
        )

    def signed_in(self, session: Session, user: User, method: SignInMethod) -> None:
        AuditLog(session).record(
            self.context.acting_as(user),
            Action.USER_SIGNED_IN,
            target_type="user",
            target_id=user.id,
            details={"username": user.username, "method": method.value},
        )

    def sign_in_failed(
        self, session: Session, username: str | None, method: SignInMethod, reason: str
    ) -> None:
        # Anonymous: nobody proved who they are. The name tried is kept (cut to a column's
        # width), never the password or the link's secret.
        details: dict[str, str] = {"method": method.value, "reason": reason}
        if username is not None:
            details["username"] = username[:USERNAME_KEPT]
        AuditLog(session).record(
            self.context,
            Action.USER_SIGN_IN_FAILED,
            target_type="user",
            target_id=None,
            details=details,
        )

    def _by(self, actor: User | None) -> ActionContext:
        return self.context if actor is None else self.context.acting_as(actor)
