"""FastAPI dependencies: settings, the request's database session, the signed-in user."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Annotated

from fastapi import Depends, Request
from sqlalchemy.orm import Session

from botarena.accounts.models import User
from botarena.accounts.service import AccountService
from botarena.db.engine import SessionFactory, session_scope
from botarena.errors import unauthorized
from botarena.settings import Settings


def get_app_settings(request: Request) -> Settings:
    settings = request.app.state.settings
    assert isinstance(settings, Settings)
    return settings


def get_session(request: Request) -> Iterator[Session]:
    """One session per request; services commit, anything uncommitted is rolled back."""
    factory: SessionFactory = request.app.state.session_factory
    with session_scope(factory) as session:
        yield session


SettingsDep = Annotated[Settings, Depends(get_app_settings)]
SessionDep = Annotated[Session, Depends(get_session)]


def optional_user(request: Request, session: SessionDep) -> User | None:
    """The user of the bearer token, None without one; a bad token is always 401."""
    header = request.headers.get("authorization")
    if header is None:
        return None
    scheme, _, secret = header.partition(" ")
    if scheme.lower() != "bearer" or not secret.strip():
        raise unauthorized("Authorization header must be 'Bearer <token>'")
    return AccountService(session).authenticate(secret.strip())


def current_user(user: Annotated[User | None, Depends(optional_user)]) -> User:
    """The signed-in user; 401 without a token."""
    if user is None:
        raise unauthorized()
    return user


OptionalUser = Annotated[User | None, Depends(optional_user)]
CurrentUser = Annotated[User, Depends(current_user)]
