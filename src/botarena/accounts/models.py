"""Users, their API tokens and one-time login links."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from botarena.clock import utcnow
from botarena.db.base import Base


class Role(StrEnum):
    """What a user may do: admins act on everything, participants on their own things."""

    ADMIN = "admin"
    PARTICIPANT = "participant"


class User(Base):
    """A person with an account."""

    __tablename__ = "users"

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    username: Mapped[str] = mapped_column(String(32))
    # Lower-cased username: names are unique regardless of case.
    username_key: Mapped[str] = mapped_column(String(32), unique=True)
    password_hash: Mapped[str | None] = mapped_column(String(255))
    role: Mapped[str] = mapped_column(String(16), default=Role.PARTICIPANT.value)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    # Set while the account may not sign in or use its tokens.
    disabled_at: Mapped[datetime | None]

    tokens: Mapped[list[ApiToken]] = relationship(back_populates="user")

    @property
    def is_admin(self) -> bool:
        """True for administrators."""
        return self.role == Role.ADMIN.value

    @property
    def is_disabled(self) -> bool:
        """True while the account is disabled."""
        return self.disabled_at is not None


class ApiToken(Base):
    """An API token; only a hash of the secret is kept, the secret is shown once.

    ``expires_at`` None means the token never expires (only admins may ask for that).
    ``last_used_at`` is kept to the minute, not to the request (see the token service).
    """

    __tablename__ = "api_tokens"

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    user_id: Mapped[str] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    name: Mapped[str | None] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[datetime | None]
    last_used_at: Mapped[datetime | None]
    revoked_at: Mapped[datetime | None]

    user: Mapped[User] = relationship(back_populates="tokens")

    def expired(self, now: datetime) -> bool:
        """True once the token's lifetime is over."""
        return self.expires_at is not None and self.expires_at <= now

    def active(self, now: datetime) -> bool:
        """True while the token may be used: neither revoked nor expired."""
        return self.revoked_at is None and not self.expired(now)


class LoginLink(Base):
    """A one-time login link: a short-lived secret that signs its user in once (the demo
    prints one for its admin). Only a digest of the secret is kept, as for API tokens."""

    __tablename__ = "login_links"

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    user_id: Mapped[str] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[datetime]
    # Set by the one redemption that succeeded; a link is never used twice.
    used_at: Mapped[datetime | None]

    user: Mapped[User] = relationship()
