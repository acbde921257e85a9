"""FastAPI dependencies for who is calling: the user of the bearer token, if any."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request

from botarena.accounts.models import User
from botarena.accounts.service import AccountService
from botarena.api.deps import SessionDep
from botarena.errors import unauthorized


def bearer_secret(header: str | None) -> str | None:
    """The token of an ``Authorization: Bearer …`` header; None without one, 401 if malformed."""
    if header is None:
        return None
    scheme, _, secret = header.partition(" ")
    if scheme.lower() != "bearer" or not secret.strip():
        raise unauthorized("Authorization header must be 'Bearer <token>'")
    return secret.strip()


def optional_user(request: Request, session: SessionDep) -> User | None:
    """The user of the bearer token, None without one; a bad token is always 401."""
    secret = bearer_secret(request.headers.get("authorization"))
    return None if secret is None else AccountService(session).authenticate(secret)


def current_user(user: Annotated[User | None, Depends(optional_user)]) -> User:
    """The signed-in user; 401 without a token."""
    if user is None:
        raise unauthorized()
    return user


OptionalUser = Annotated[User | None, Depends(optional_user)]
CurrentUser = Annotated[User, Depends(current_user)]
