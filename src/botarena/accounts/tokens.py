"""Token rules: issuing with an expiry, signing in with a password (behind the login limiter),
authenticating a bearer secret, listing and revoking one's tokens."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy.orm import Session

from botarena.accounts.journal import Journal, SignInMethod, TokenMethod
from botarena.accounts.limiter import LoginLimiter
from botarena.accounts.models import ApiToken, User
from botarena.accounts.repository import TokenRepository, UserRepository
from botarena.accounts.security import hash_token, new_token_secret, verify_password
from botarena.clock import utcnow
from botarena.errors import AppError, forbidden, invalid, not_found, unauthorized
from botarena.ids import new_id

DEFAULT_TOKEN_DAYS = 90
MAX_TOKEN_DAYS = 3650
# last_used_at is written at most this often per token: a write per request would serialise
# every request on SQLite's single writer.
LAST_USED_GRANULARITY = timedelta(minutes=1)


@dataclass(frozen=True)
class TokenTerms:
    """What is asked of a new token: a name, and a lifetime in days (None: the default) or,
    for admins only, none at all."""

    name: str | None = None
    expires_in_days: int | None = None
    never_expires: bool = False


@dataclass(frozen=True)
class IssuedToken:
    """A token just made: the stored row and its secret, which is never shown again."""

    token: ApiToken
    secret: str


class TokenService:
    """Every rule about tokens; each public method that writes commits its work (and the
    journal's entry with it)."""

    def __init__(
        self,
        session: Session,
        *,
        token_days: int = DEFAULT_TOKEN_DAYS,
        journal: Journal | None = None,
    ) -> None:
        self.session = session
        self.token_days = token_days
        # None records nothing: only fixtures of tests and benchmarks go without a journal.
        self.journal = journal
        self.tokens = TokenRepository(session)
        self.users = UserRepository(session)

    def sign_in(
        self,
        username: str,
        password: str,
        terms: TokenTerms,
        *,
        limiter: LoginLimiter | None,
        address: str | None,
    ) -> IssuedToken:
        """A new token for a username and password; one vague error for every wrong pair."""
        user = self.check_password(username, password, limiter=limiter, address=address)
        return self.issue(user, terms, actor=user, method=TokenMethod.PASSWORD)

    def check_password(
        self, username: str, password: str, *, limiter: LoginLimiter | None, address: str | None
    ) -> User:
        """The user of a username and password (behind the limiter); 401 with one vague
        error for every wrong pair, 429 while the username or address is locked. The web
        pages' sign-in uses it too: they keep the user in their session, not in a token."""
        if limiter is not None:
            limiter.check(username, address)
        user = self.users.by_username(username)
        if not verify_password(user.password_hash if user else None, password) or user is None:
            if limiter is not None:
                limiter.failed(username, address)
            raise unauthorized("Invalid username or password")
        if user.is_disabled:
            raise unauthorized("Account disabled")
        return user

    def open_session(
        self, username: str, password: str, *, limiter: LoginLimiter | None, address: str | None
    ) -> User:
        """The user of a web sign-in (:meth:`check_password`), with its outcome in the journal:
        a success, or a wrong password or disabled account. A sign-in refused during a lockout
        (429) is not recorded, so that a flood of guesses cannot flood the journal too."""
        try:
            user = self.check_password(username, password, limiter=limiter, address=address)
        except AppError as exc:
            if exc.status_code == 401 and self.journal is not None:
                method = SignInMethod.PASSWORD
                self.journal.sign_in_failed(self.session, username, method, exc.error)
                self.session.commit()
            raise
        if self.journal is not None:
            self.journal.signed_in(self.session, user, SignInMethod.PASSWORD)
            self.session.commit()
        return user

    def issue(
        self, user: User, terms: TokenTerms, *, actor: User | None, method: TokenMethod
    ) -> IssuedToken:
        """A new token for ``user`` on ``terms``; committed with its journal entry."""
        issued = self.add(user, terms, actor=actor, method=method)
        self.session.commit()
        return issued

    def add(
        self, user: User, terms: TokenTerms, *, actor: User | None, method: TokenMethod
    ) -> IssuedToken:
        """A new token for ``user``, flushed but not committed (the caller's unit of work)."""
        now = utcnow()
        expires_at = self._expiry(user, terms, now)
        secret = new_token_secret()
        token = ApiToken(
            id=new_id("tok"),
            user_id=user.id,
            token_hash=hash_token(secret),
            name=terms.name,
            created_at=now,
            expires_at=expires_at,
        )
        token.user = user
        self.tokens.add(token)
        if self.journal is not None:
            self.journal.token_created(self.session, actor, token, method)
        return IssuedToken(token, secret)

    def authenticate(self, secret: str) -> ApiToken:
        """The token a secret belongs to; 401 saying whether it is unknown, revoked or expired
        (only a holder of the secret learns which)."""
        token = self.tokens.by_hash(hash_token(secret))
        if token is None:
            raise unauthorized("Invalid token")
        if token.revoked_at is not None:
            raise unauthorized("Token revoked")
        now = utcnow()
        if token.expired(now):
            raise expired_error(token.expires_at)
        if token.user.is_disabled:
            raise unauthorized("Account disabled")
        if token.last_used_at is None or now - token.last_used_at >= LAST_USED_GRANULARITY:
            token.last_used_at = now
            self.session.commit()
        return token

    def page(self, user: User, limit: int, offset: int) -> tuple[Sequence[ApiToken], int]:
        """``user``'s own tokens, oldest first, revoked and expired ones included."""
        return self.tokens.page_for_user(user.id, limit, offset)

    def revoke(self, user: User, token_id: str, *, own_only: bool = False) -> ApiToken:
        """Revoke one of ``user``'s tokens (admins may revoke anyone's, unless ``own_only``:
        the account page deals with one's own); revoking a revoked token changes nothing."""
        token = self.tokens.get(token_id)
        mine = token is not None and token.user_id == user.id
        if token is None or not (mine or (user.is_admin and not own_only)):
            raise not_found("Token not found")
        if token.revoked_at is None:
            token.revoked_at = utcnow()
            if self.journal is not None:
                self.journal.token_revoked(self.session, user, token)
        self.session.commit()
        return token

    def _expiry(self, user: User, terms: TokenTerms, now: datetime) -> datetime | None:
        if terms.never_expires:
            if terms.expires_in_days is not None:
                raise invalid("neverExpires", "Give either expiresInDays or neverExpires, not both")
            if not user.is_admin:
                raise forbidden("Only admins may create tokens that never expire")
            return None
        days = self.token_days if terms.expires_in_days is None else terms.expires_in_days
        if not 1 <= days <= MAX_TOKEN_DAYS:
            raise invalid("expiresInDays", f"expiresInDays must be 1 to {MAX_TOKEN_DAYS}")
        return now + timedelta(days=days)


def expired_error(expires_at: datetime | None) -> AppError:
    """401 for a token whose lifetime is over, saying when it ended."""
    when = f"{expires_at:%Y-%m-%d %H:%M} UTC" if expires_at else "an unknown date"
    return unauthorized(f"Token expired on {when}; sign in again or create a new token")
