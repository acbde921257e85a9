"""FastAPI dependencies for who is calling (the user of the bearer token, if any), and for
what the composition root hands accounts: the login limiter and the journal."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request

from botarena.accounts.journal import Journal
from botarena.accounts.limiter import LoginLimiter
from botarena.accounts.models import ApiToken, User
from botarena.accounts.tokens import TokenService
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


def optional_token(request: Request, session: SessionDep) -> ApiToken | None:
    """The bearer token of the request, None without one; a bad token is always 401."""
    secret = bearer_secret(request.headers.get("authorization"))
    return None if secret is None else TokenService(session).authenticate(secret)


def optional_user(token: Annotated[ApiToken | None, Depends(optional_token)]) -> User | None:
    """The user of the bearer token, None without one; a bad token is always 401."""
    return None if token is None else token.user


def current_token(token: Annotated[ApiToken | None, Depends(optional_token)]) -> ApiToken:
    """The token the request is signed with; 401 without one."""
    if token is None:
        raise unauthorized()
    return token


def current_user(user: Annotated[User | None, Depends(optional_user)]) -> User:
    """The signed-in user; 401 without a token."""
    if user is None:
        raise unauthorized()
    return user


def client_address(request: Request) -> str | None:
    """The peer's address as the server sees it (behind a proxy, uvicorn's
    ``--forwarded-allow-ips`` decides whether that is the proxy or the client)."""
    return request.client.host if request.client else None


def login_limiter(request: Request) -> LoginLimiter:
    """This application's sign-in guard, made by the composition root."""
    limiter = request.app.state.login_limiter
    assert isinstance(limiter, LoginLimiter)
    return limiter


def account_journal(request: Request) -> Journal:
    """Where this request's account events are recorded: the composition root sets
    ``app.state.account_journal`` to a factory taking the request."""
    journal: Journal = request.app.state.account_journal(request)
    return journal


OptionalUser = Annotated[User | None, Depends(optional_user)]
CurrentUser = Annotated[User, Depends(current_user)]
CurrentToken = Annotated[ApiToken, Depends(current_token)]
LimiterDep = Annotated[LoginLimiter, Depends(login_limiter)]
JournalDep = Annotated[Journal, Depends(account_journal)]
ClientAddress = Annotated[str | None, Depends(client_address)]
