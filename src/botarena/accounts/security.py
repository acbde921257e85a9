"""Password hashing (argon2), API token secrets and one-time login secrets.

Tokens are 256-bit random secrets, so a fast SHA-256 digest is a sound thing to store and look
up by; passwords are low-entropy and get argon2id.
"""

from __future__ import annotations

import hashlib
import secrets
from functools import lru_cache

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

TOKEN_PREFIX = "bat_"  # noqa: S105 - a public prefix, not a secret
LOGIN_LINK_PREFIX = "bal_"  # a one-time login link's secret: never a bearer token
_hasher = PasswordHasher()


@lru_cache(maxsize=1)
def _dummy_hash() -> str:
    # Verifying against this keeps a login for an unknown user as slow as one for a known user.
    return _hasher.hash("botarena-no-such-user")


def hash_password(password: str) -> str:
    """An argon2id hash of ``password``."""
    return _hasher.hash(password)


def verify_password(password_hash: str | None, password: str) -> bool:
    """True when ``password`` matches; a missing hash never matches but costs the same time."""
    try:
        return (
            _hasher.verify(password_hash or _dummy_hash(), password) and password_hash is not None
        )
    except (VerificationError, InvalidHashError):
        return False


def new_token_secret() -> str:
    """A fresh token secret, shown to its owner once."""
    return TOKEN_PREFIX + secrets.token_urlsafe(32)


def new_login_link_secret() -> str:
    """A fresh one-time login secret (256 random bits, like a token's)."""
    return LOGIN_LINK_PREFIX + secrets.token_urlsafe(32)


def hash_token(secret: str) -> str:
    """The stored form of a token secret."""
    return hashlib.sha256(secret.encode()).hexdigest()
