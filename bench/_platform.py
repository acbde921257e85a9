"""What the benchmarks that drive the real app share: a new user's request headers.

Imported after the script has put ``src`` on the path."""

from __future__ import annotations

from botarena.accounts.service import AccountService
from botarena.db.engine import SessionFactory, session_scope


def new_user_headers(factory: SessionFactory, username: str) -> dict[str, str]:
    """A new user, straight in the database; the headers that act as them."""
    with session_scope(factory) as session:
        _user, issued = AccountService(session).create_user(username, None)
    return {"Authorization": f"Bearer {issued.secret}"}
