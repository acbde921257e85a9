"""Database access for users and tokens."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from botarena.accounts.models import ApiToken, User
from botarena.db.paging import page_of


class UserRepository:
    """Queries on users."""

    def __init__(self, session: Session) -> None:
        self.session = session

    def get(self, user_id: str) -> User | None:
        return self.session.get(User, user_id)

    def by_username(self, username: str) -> User | None:
        return self.session.scalar(select(User).where(User.username_key == username.lower()))

    def add(self, user: User) -> User:
        self.session.add(user)
        self.session.flush()
        return user

    def count(self) -> int:
        return self.session.scalar(select(func.count()).select_from(User)) or 0

    def page(self, limit: int, offset: int) -> tuple[Sequence[User], int]:
        """Users by name, and how many there are."""
        return page_of(self.session, select(User), (User.username_key.asc(),), limit, offset)


class TokenRepository:
    """Queries on API tokens."""

    def __init__(self, session: Session) -> None:
        self.session = session

    def get(self, token_id: str) -> ApiToken | None:
        return self.session.get(ApiToken, token_id)

    def by_hash(self, token_hash: str) -> ApiToken | None:
        """The token with this digest, revoked or expired ones included (they get their own
        401 sentence)."""
        return self.session.scalar(select(ApiToken).where(ApiToken.token_hash == token_hash))

    def page_for_user(
        self, user_id: str, limit: int, offset: int
    ) -> tuple[Sequence[ApiToken], int]:
        """A user's tokens, oldest first."""
        query = select(ApiToken).where(ApiToken.user_id == user_id)
        return page_of(self.session, query, (ApiToken.created_at, ApiToken.id), limit, offset)

    def add(self, token: ApiToken) -> ApiToken:
        self.session.add(token)
        self.session.flush()
        return token
