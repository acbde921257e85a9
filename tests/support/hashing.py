"""Argon2 at its lightest inside the test process: a hash at the platform's cost takes about
a tenth of a second, and a run signs in thousands of times. Servers the tests start as
processes of their own hash at the platform's cost; so does the test that checks it
(``tests/accounts/test_password_cost.py``, which asks for ``platform_hasher``)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from argon2 import PasswordHasher

from botarena.accounts import security

QUICK = PasswordHasher(time_cost=1, memory_cost=8, parallelism=1)


@pytest.fixture(autouse=True, scope="session")
def quick_password_hashing() -> Iterator[None]:
    platform = security._hasher
    security._hasher = QUICK
    security._dummy_hash.cache_clear()
    yield
    security._hasher = platform
    security._dummy_hash.cache_clear()


@pytest.fixture
def platform_hasher() -> Iterator[PasswordHasher]:
    """The platform's own hasher, in use for the test."""
    quick = security._hasher
    security._hasher = PasswordHasher()
    security._dummy_hash.cache_clear()
    yield security._hasher
    security._hasher = quick
    security._dummy_hash.cache_clear()
