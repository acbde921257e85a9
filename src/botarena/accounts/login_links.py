"""One-time login links: a short-lived secret that signs its user in once.

The demo prints one for its admin (``/login/once?token=…``), so that a person at the terminal
reaches the web pages signed in without a password. The secret is random (256 bits), kept
only as its SHA-256 digest, expires after :data:`LOGIN_LINK_LIFETIME`, and is redeemed by one
conditional update: of two redemptions racing, exactly one wins, on either database.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from botarena.accounts.journal import Journal, SignInMethod
from botarena.accounts.limiter import LoginLimiter
from botarena.accounts.models import LoginLink, User
from botarena.accounts.security import hash_token, new_login_link_secret
from botarena.clock import utcnow
from botarena.errors import AppError, invalid
from botarena.ids import new_id

LOGIN_LINK_LIFETIME = timedelta(minutes=10)
LOGIN_LINK_PATH = "/login/once"
_MAX_LIFETIME = timedelta(days=1)


@dataclass(frozen=True)
class IssuedLoginLink:
    """A link just made: its row and its secret, which is shown once and never stored."""

    link: LoginLink
    secret: str

    def url(self, base: str) -> str:
        """The link under ``base`` (e.g. ``http://127.0.0.1:8000``)."""
        return f"{base.rstrip('/')}{LOGIN_LINK_PATH}?token={self.secret}"


class LoginLinkService:
    """Issuing and redeeming one-time login links; each method commits its work (and the
    journal's entry with it)."""

    def __init__(self, session: Session, *, journal: Journal | None = None) -> None:
        self.session = session
        # None records nothing: only fixtures of tests go without a journal.
        self.journal = journal

    def issue(
        self,
        user: User,
        *,
        lifetime: timedelta = LOGIN_LINK_LIFETIME,
        actor: User | None = None,
    ) -> IssuedLoginLink:
        """A new single-use link for ``user``, valid for ``lifetime``."""
        if not timedelta(0) < lifetime <= _MAX_LIFETIME:
            raise invalid("lifetime", "A login link lasts more than 0 seconds and at most a day")
        if user.is_disabled:
            raise invalid("user", "A disabled account gets no login link")
        now = utcnow()
        secret = new_login_link_secret()
        link = LoginLink(
            id=new_id("lnk"),
            user_id=user.id,
            token_hash=hash_token(secret),
            created_at=now,
            expires_at=now + lifetime,
        )
        link.user = user
        self.session.add(link)
        self.session.flush()
        if self.journal is not None:
            self.journal.login_link_created(self.session, actor, link)
        self.session.commit()
        return IssuedLoginLink(link, secret)

    def redeem(
        self, secret: str, *, limiter: LoginLimiter | None = None, address: str | None = None
    ) -> User:
        """The user the link signs in, marking it used; 401 for an unknown, used or expired
        link (saying which: only a holder of the secret learns it) or a disabled account.

        Each sign-in and each failure is in the journal; failures count against the address in
        ``limiter`` (429 while it is locked, and then nothing is recorded)."""
        if limiter is not None:
            limiter.check(None, address)
        try:
            return self._claim(secret)
        except AppError as exc:
            if limiter is not None:
                limiter.failed(None, address)
            if self.journal is not None:
                self.journal.sign_in_failed(self.session, None, SignInMethod.LOGIN_LINK, exc.error)
                self.session.commit()
            raise

    def _claim(self, secret: str) -> User:
        digest = hash_token(secret)
        link = self.session.scalar(select(LoginLink).where(LoginLink.token_hash == digest))
        if link is None:
            raise _refused("Invalid login link")
        if link.used_at is not None:
            raise _refused("This login link was already used")
        now = utcnow()
        if link.expires_at <= now:
            raise _refused(f"This login link expired at {link.expires_at:%Y-%m-%d %H:%M:%S} UTC")
        if link.user.is_disabled:
            raise _refused("Account disabled")
        # The row is claimed only if nobody claimed it since it was read: one redemption wins.
        claimed = self.session.execute(
            update(LoginLink)
            .where(
                LoginLink.id == link.id,
                LoginLink.used_at.is_(None),
                LoginLink.expires_at > now,
            )
            .values(used_at=now)
            .execution_options(synchronize_session=False)
        )
        if getattr(claimed, "rowcount", 0) != 1:
            self.session.rollback()
            raise _refused("This login link was already used")
        self.session.refresh(link)
        if self.journal is not None:
            self.journal.login_link_used(self.session, link)
            self.journal.signed_in(self.session, link.user, SignInMethod.LOGIN_LINK)
        self.session.commit()
        return link.user


def _refused(error: str) -> AppError:
    """401 for a link that signs nobody in, with what to do instead."""
    return AppError(
        error,
        "A login link works once, for a few minutes: ask for a new one, or sign in with a "
        "username and password.",
        [],
        401,
    )
