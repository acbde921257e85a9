"""Passwords are hashed with argon2id at the library's recommended cost (the tests' own
process hashes more cheaply: see support/hashing.py)."""

from __future__ import annotations

from argon2 import PasswordHasher, extract_parameters
from argon2.profiles import RFC_9106_LOW_MEMORY

from botarena.accounts.security import hash_password, verify_password


def test_a_password_is_hashed_at_the_recommended_cost(platform_hasher: PasswordHasher) -> None:
    made = hash_password("correct horse battery staple")
    assert made.startswith("$argon2id$")
    used = extract_parameters(made)
    assert used.memory_cost >= RFC_9106_LOW_MEMORY.memory_cost
    assert used.time_cost >= RFC_9106_LOW_MEMORY.time_cost
    assert verify_password(made, "correct horse battery staple")
    assert not verify_password(made, "wrong")
    assert not verify_password(None, "correct horse battery staple")
