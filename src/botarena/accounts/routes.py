"""HTTP routes of accounts: signing in, one's tokens, and the signed-in user."""

from __future__ import annotations

from fastapi import APIRouter, Response, status

from botarena.accounts.deps import (
    ClientAddress,
    CurrentToken,
    CurrentUser,
    JournalDep,
    LimiterDep,
)
from botarena.accounts.journal import TokenMethod
from botarena.accounts.schemas import TokenCreated, TokenOptions, TokenOut, TokenRequest, UserOut
from botarena.accounts.tokens import IssuedToken, TokenService
from botarena.api.deps import SessionDep, SettingsDep
from botarena.api.pagination import PageDep
from botarena.api.schema import Page
from botarena.clock import utcnow

router = APIRouter(tags=["accounts"])


@router.post("/auth/tokens", status_code=status.HTTP_201_CREATED)
def create_token(
    body: TokenRequest,
    session: SessionDep,
    settings: SettingsDep,
    journal: JournalDep,
    limiter: LimiterDep,
    address: ClientAddress,
) -> TokenCreated:
    """Sign in: exchange a username and password for a new API token (shown once).

    After too many failures for the username or from the address: 429 with ``Retry-After``.
    """
    service = TokenService(session, token_days=settings.token_days, journal=journal)
    issued = service.sign_in(
        body.username, body.password, body.terms(), limiter=limiter, address=address
    )
    return _created(issued)


@router.get("/auth/tokens")
def list_tokens(token: CurrentToken, session: SessionDep, page: PageDep) -> Page[TokenOut]:
    """Your tokens, oldest first, revoked and expired ones included; never their secrets."""
    rows, total = TokenService(session).page(token.user, page.limit, page.offset)
    now = utcnow()
    return Page[TokenOut](
        items=[TokenOut.of(row, now, token.id) for row in rows],
        total=total,
        limit=page.limit,
        offset=page.offset,
    )


@router.delete("/auth/tokens/{token_id}", status_code=status.HTTP_204_NO_CONTENT)
def revoke_token(
    token_id: str, user: CurrentUser, session: SessionDep, journal: JournalDep
) -> Response:
    """Revoke one of your tokens (admins: anyone's)."""
    TokenService(session, journal=journal).revoke(user, token_id)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.post("/me/tokens", status_code=status.HTTP_201_CREATED)
def create_my_token(
    body: TokenOptions,
    user: CurrentUser,
    session: SessionDep,
    settings: SettingsDep,
    journal: JournalDep,
) -> TokenCreated:
    """A further token for the signed-in user (shown once), e.g. to renew one before it
    expires; no password needed."""
    service = TokenService(session, token_days=settings.token_days, journal=journal)
    return _created(service.issue(user, body.terms(), actor=user, method=TokenMethod.TOKEN))


@router.get("/me")
def me(user: CurrentUser) -> UserOut:
    """The signed-in user."""
    return UserOut.model_validate(user)


def _created(issued: IssuedToken) -> TokenCreated:
    token = issued.token
    return TokenCreated(
        id=token.id,
        token=issued.secret,
        name=token.name,
        created_at=token.created_at,
        expires_at=token.expires_at,
    )
