"""Account rules: creating users, making them admins, disabling them; token rules are in
:mod:`botarena.accounts.tokens`."""

from __future__ import annotations

import re
from collections.abc import Sequence

from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from botarena.accounts.journal import Journal, SignInMethod, TokenMethod, UserChange
from botarena.accounts.models import Role, User
from botarena.accounts.repository import UserRepository
from botarena.accounts.security import hash_password
from botarena.accounts.tokens import DEFAULT_TOKEN_DAYS, IssuedToken, TokenService, TokenTerms
from botarena.clock import utcnow
from botarena.errors import bad_request, conflict, not_found
from botarena.ids import new_id

USERNAME_PATTERN = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{1,31}$")
MIN_PASSWORD_LENGTH = 8


class AccountService:
    """Every rule about users; it commits the work it does, with the journal's entries.

    ``journal`` None records nothing: only fixtures of tests and benchmarks go without one.
    """

    def __init__(
        self,
        session: Session,
        *,
        journal: Journal | None = None,
        token_days: int = DEFAULT_TOKEN_DAYS,
    ) -> None:
        self.session = session
        self.journal = journal
        self.users = UserRepository(session)
        self.tokens = TokenService(session, token_days=token_days, journal=journal)

    def create_user(
        self,
        username: str,
        password: str | None,
        *,
        admin: bool = False,
        actor: User | None = None,
        label: str | None = None,
    ) -> tuple[User, IssuedToken]:
        """A new user with a first token (of the default lifetime, named ``label``).
        ``password`` None means token-only sign-in; ``actor`` None means the journal's own
        (the command line)."""
        user = self._add_user(username, password, admin=admin, actor=actor)
        issued = self.tokens.add(
            user, TokenTerms(name=label), actor=actor, method=TokenMethod.NEW_USER
        )
        self.session.commit()
        return user, issued

    def sign_up(self, username: str, password: str) -> User:
        """A participant made through the pages' sign-up form: no token (the pages sign in with
        a session; tokens are made on the account page, where their secret is shown)."""
        user = self._add_user(username, password, admin=False, actor=None, by_self=True)
        if self.journal is not None:
            self.journal.signed_in(self.session, user, SignInMethod.SIGN_UP)
        self.session.commit()
        return user

    def _add_user(
        self,
        username: str,
        password: str | None,
        *,
        admin: bool,
        actor: User | None,
        by_self: bool = False,
    ) -> User:
        """The new user, flushed with its journal entry but not committed; ``by_self``: the
        user made their own account (the entry names them as its actor)."""
        if not USERNAME_PATTERN.fullmatch(username):
            raise bad_request(
                "Username must be 2 to 32 letters, digits, '.', '_' or '-', "
                "starting with a letter or digit",
                field_name="username",
            )
        if password is not None and len(password) < MIN_PASSWORD_LENGTH:
            raise bad_request(
                f"Password must be at least {MIN_PASSWORD_LENGTH} characters",
                field_name="password",
            )
        if self.users.by_username(username) is not None:
            raise conflict(f"User {username} already exists")
        user = User(
            id=new_id("usr"),
            username=username,
            username_key=username.lower(),
            password_hash=hash_password(password) if password is not None else None,
            role=(Role.ADMIN if admin else Role.PARTICIPANT).value,
            created_at=utcnow(),
        )
        try:
            self.users.add(user)
        except IntegrityError as exc:  # a concurrent create of the same name
            self.session.rollback()
            raise conflict(f"User {username} already exists") from exc
        if self.journal is not None:
            self.journal.user_created(self.session, user if by_self else actor, user)
        return user

    def issue_token(self, user: User, name: str | None = None) -> IssuedToken:
        """A new token of the default lifetime for a user already known (the demo uses it)."""
        return self.tokens.issue(user, TokenTerms(name=name), actor=None, method=TokenMethod.ISSUED)

    def authenticate(self, secret: str) -> User:
        """The user a token secret belongs to; 401 for an unknown, revoked or expired token."""
        return self.tokens.authenticate(secret).user

    def signed_in(self, user_id: str) -> User | None:
        """The user a web session names, None when it no longer exists or was disabled."""
        user = self.users.get(user_id)
        return None if user is None or user.is_disabled else user

    def list_users(self, *, limit: int, offset: int = 0) -> tuple[Sequence[User], int]:
        """Users by name, and how many there are (for admins)."""
        return self.users.page(limit, offset)

    def set_admin(self, username: str, admin: bool, *, actor: User | None = None) -> bool:
        """Make a user an admin (or a participant again); False when it already was so. An
        admin cannot remove their own role (the platform would be left without an admin)."""
        user = self._named(username)
        if not admin:
            _not_oneself(actor, user, "remove your own admin role")
        role = (Role.ADMIN if admin else Role.PARTICIPANT).value
        if user.role == role:
            return False
        user.role = role
        change = UserChange.MADE_ADMIN if admin else UserChange.ADMIN_REMOVED
        self._changed(user, change, actor)
        return True

    def set_disabled(self, username: str, disabled: bool, *, actor: User | None = None) -> bool:
        """Disable a user (no sign-in, no token works) or enable them again; False when it
        already was so. An admin cannot disable their own account."""
        user = self._named(username)
        if disabled:
            _not_oneself(actor, user, "disable your own account")
        if user.is_disabled == disabled:
            return False
        user.disabled_at = utcnow() if disabled else None
        self._changed(user, UserChange.DISABLED if disabled else UserChange.ENABLED, actor)
        return True

    def _named(self, username: str) -> User:
        user = self.users.by_username(username)
        if user is None:
            raise not_found(f"No user named {username}")
        return user

    def _changed(self, user: User, change: UserChange, actor: User | None) -> None:
        if self.journal is not None:
            self.journal.user_changed(self.session, actor, user, change)
        self.session.commit()


def _not_oneself(actor: User | None, user: User, what: str) -> None:
    """409 when ``actor`` would do ``what`` to themselves (the command line, no actor, may)."""
    if actor is not None and actor.id == user.id:
        raise conflict(f"You cannot {what}", "Ask another admin to do it.")
