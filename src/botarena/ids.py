"""Opaque identifiers: a short kind prefix and random lowercase hex.

Ids end up in image tags and Kubernetes object names, so they stay lowercase, DNS-label safe
and at most 32 characters long.
"""

from __future__ import annotations

import secrets

_RANDOM_HEX_CHARS = 24


def new_id(prefix: str) -> str:
    """A fresh id such as ``sub-3f9c0a…`` (prefix of three letters, 28 characters in all)."""
    if not (prefix.isalpha() and prefix.islower() and len(prefix) == 3):
        raise ValueError(f"id prefix must be three lowercase letters, not {prefix!r}")
    return f"{prefix}-{secrets.token_hex(_RANDOM_HEX_CHARS // 2)}"
