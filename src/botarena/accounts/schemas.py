"""Request and response bodies of the accounts API."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from pydantic import ConfigDict, Field

from botarena.accounts.models import ApiToken
from botarena.accounts.tokens import MAX_TOKEN_DAYS, TokenTerms
from botarena.api.schema import JSON_NUMBER, ApiModel


class TokenOptions(ApiModel):
    """What may be asked of a new token: a name, and its lifetime."""

    # The description says what the rules below refuse: a lifetime and "never" at once.
    model_config = ConfigDict(
        json_schema_extra={
            "not": {
                "required": ["expiresInDays", "neverExpires"],
                "properties": {
                    "expiresInDays": {"type": "integer"},
                    "neverExpires": {"const": True},
                },
            }
        }
    )

    name: str | None = Field(
        default=None,
        min_length=1,
        max_length=64,
        pattern=r"^[^\x00-\x1f\x7f]+$",
        description="A label of your choosing, shown in the list of your tokens.",
    )
    expires_in_days: Annotated[int, Field(ge=1, le=MAX_TOKEN_DAYS), JSON_NUMBER] | None = Field(
        default=None,
        description="Days until the token expires; absent or null: the server's default.",
    )
    never_expires: bool = Field(
        default=False,
        strict=True,
        description="A token that never expires: admins only (403 otherwise).",
    )

    def terms(self) -> TokenTerms:
        return TokenTerms(self.name, self.expires_in_days, self.never_expires)


class TokenRequest(TokenOptions):
    """Username and password, exchanged for a token."""

    username: str = Field(min_length=1, max_length=64)
    password: str = Field(min_length=1, max_length=1024)


class TokenCreated(ApiModel):
    """A new token; ``token`` is the secret, shown this once. ``expiresAt`` null: never."""

    id: str
    token: str
    name: str | None
    created_at: datetime
    expires_at: datetime | None


class TokenOut(ApiModel):
    """One of your tokens, without its secret: ``active`` is false once it is revoked or
    expired; ``current`` marks the token the request was signed with."""

    id: str
    name: str | None
    created_at: datetime
    last_used_at: datetime | None
    expires_at: datetime | None
    revoked_at: datetime | None
    active: bool
    current: bool

    @classmethod
    def of(cls, token: ApiToken, now: datetime, current_id: str) -> TokenOut:
        return cls(
            id=token.id,
            name=token.name,
            created_at=token.created_at,
            last_used_at=token.last_used_at,
            expires_at=token.expires_at,
            revoked_at=token.revoked_at,
            active=token.active(now),
            current=token.id == current_id,
        )


class UserOut(ApiModel):
    """A user as the API shows them."""

    id: str
    username: str
    role: str
    created_at: datetime
