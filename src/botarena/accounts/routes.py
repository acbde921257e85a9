"""HTTP routes of accounts: tokens and the signed-in user."""

from __future__ import annotations

from fastapi import APIRouter, Response, status

from botarena.accounts.deps import CurrentUser
from botarena.accounts.schemas import TokenCreated, TokenRequest, UserOut
from botarena.accounts.service import AccountService
from botarena.api.deps import SessionDep

router = APIRouter(tags=["accounts"])


@router.post("/auth/tokens", status_code=status.HTTP_201_CREATED)
def create_token(body: TokenRequest, session: SessionDep) -> TokenCreated:
    """Exchange a username and password for a new API token (shown once)."""
    issued = AccountService(session).sign_in(body.username, body.password)
    return TokenCreated(id=issued.token.id, token=issued.secret, created_at=issued.token.created_at)


@router.delete("/auth/tokens/{token_id}", status_code=status.HTTP_204_NO_CONTENT)
def revoke_token(token_id: str, user: CurrentUser, session: SessionDep) -> Response:
    """Revoke one of your tokens."""
    AccountService(session).revoke(user, token_id)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.get("/me")
def me(user: CurrentUser) -> UserOut:
    """The signed-in user."""
    return UserOut.model_validate(user)
