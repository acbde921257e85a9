"""Account rules: creating users, issuing, checking and revoking tokens."""

from __future__ import annotations

import re
from dataclasses import dataclass

from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from botarena.accounts.models import ApiToken, Role, User
from botarena.accounts.repository import TokenRepository, UserRepository
from botarena.accounts.security import hash_password, hash_token, new_token_secret, verify_password
from botarena.clock import utcnow
from botarena.errors import bad_request, conflict, not_found, unauthorized
from botarena.ids import new_id

USERNAME_PATTERN = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{1,31}$")
MIN_PASSWORD_LENGTH = 8


@dataclass(frozen=True)
class IssuedToken:
    """A token just made: the stored row and its secret, which is never shown again."""

    token: ApiToken
    secret: str


class AccountService:
    """Every rule about accounts; it commits the work it does."""

    def __init__(self, session: Session) -> None:
        self.session = session
        self.users = UserRepository(session)
        self.tokens = TokenRepository(session)

    def create_user(
        self, username: str, password: str | None, *, admin: bool = False
    ) -> tuple[User, IssuedToken]:
        """A new user with a first token. ``password`` None means token-only sign-in."""
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
        issued = self._issue(user)
        self.session.commit()
        return user, issued

    def sign_in(self, username: str, password: str) -> IssuedToken:
        """A new token for a username and password; one vague error for every failure."""
        user = self.users.by_username(username)
        if not verify_password(user.password_hash if user else None, password) or user is None:
            raise unauthorized("Invalid username or password")
        issued = self._issue(user)
        self.session.commit()
        return issued

    def issue_token(self, user: User) -> IssuedToken:
        """A new token for a user already known (the demo and admin tooling use it)."""
        issued = self._issue(user)
        self.session.commit()
        return issued

    def authenticate(self, secret: str) -> User:
        """The user a token secret belongs to; 401 for anything unknown or revoked."""
        token = self.tokens.active_by_hash(hash_token(secret))
        if token is None:
            raise unauthorized("Invalid or revoked token")
        return token.user

    def revoke(self, user: User, token_id: str) -> None:
        """Revoke one of ``user``'s tokens (admins may revoke anyone's)."""
        token = self.tokens.get(token_id)
        if token is None or (token.user_id != user.id and not user.is_admin):
            raise not_found("Token not found")
        if token.revoked_at is None:
            token.revoked_at = utcnow()
        self.session.commit()

    def _issue(self, user: User) -> IssuedToken:
        secret = new_token_secret()
        token = ApiToken(
            id=new_id("tok"), user_id=user.id, token_hash=hash_token(secret), created_at=utcnow()
        )
        token.user = user
        self.tokens.add(token)
        return IssuedToken(token, secret)
