"""Request and response bodies of the accounts API."""

from __future__ import annotations

from datetime import datetime

from pydantic import Field

from botarena.api.schema import ApiModel


class TokenRequest(ApiModel):
    """Username and password, exchanged for a token."""

    username: str = Field(min_length=1, max_length=64)
    password: str = Field(min_length=1, max_length=1024)


class TokenCreated(ApiModel):
    """A new token; ``token`` is the secret, shown this once."""

    id: str
    token: str
    created_at: datetime


class UserOut(ApiModel):
    """A user as the API shows them."""

    id: str
    username: str
    role: str
    created_at: datetime
