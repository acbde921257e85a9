"""Webhook signing secrets sealed with a key the server keeps, so the database never holds
them in the clear.

The key is 256 random bits made once and kept in the data folder (``webhook-key``, mode
0600, like the web session's key); each secret is sealed with AES-GCM under a fresh nonce and
bound to its endpoint's id, so a sealed value copied onto another endpoint does not open. A
database read without the data folder reveals no secret. Servers sharing one database must
share this file.
"""

from __future__ import annotations

import base64
import os
import secrets

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from botarena.settings import Settings
from botarena.storage import private_data_dir

_KEY_FILE = "webhook-key"
_VERSION = "v1"
_NONCE_BYTES = 12


class SealError(RuntimeError):
    """A sealed secret that this server's key does not open."""


def new_signing_secret() -> str:
    """A fresh signing secret as the user is shown it once: ``whsec_`` and 256 random bits."""
    return "whsec_" + secrets.token_urlsafe(32)


class Sealer:
    """Seals and opens the signing secrets with the server's key."""

    def __init__(self, key: bytes) -> None:
        self._aead = AESGCM(key)

    @classmethod
    def for_settings(cls, settings: Settings) -> Sealer:
        return cls(_server_key(settings))

    def seal(self, secret: str, endpoint_id: str) -> str:
        nonce = os.urandom(_NONCE_BYTES)
        sealed = self._aead.encrypt(nonce, secret.encode(), endpoint_id.encode())
        return f"{_VERSION}:{base64.urlsafe_b64encode(nonce + sealed).decode()}"

    def open(self, sealed: str, endpoint_id: str) -> str:
        version, _, body = sealed.partition(":")
        if version != _VERSION:
            raise SealError(f"unknown sealing {version!r}")
        raw = base64.urlsafe_b64decode(body.encode())
        try:
            clear = self._aead.decrypt(raw[:_NONCE_BYTES], raw[_NONCE_BYTES:], endpoint_id.encode())
        except InvalidTag as exc:
            raise SealError("the server's webhook key does not open this secret") from exc
        return clear.decode()


def _server_key(settings: Settings) -> bytes:
    """The key kept in the data folder, made on first use (of two processes making it at
    once, one writes and both read the same)."""
    path = private_data_dir(settings) / _KEY_FILE
    for _ in range(100):
        try:
            text = path.read_text(encoding="ascii").strip()
        except FileNotFoundError:
            text = None
        if text:
            return base64.urlsafe_b64decode(text.encode())
        if text is None:
            try:
                descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            except FileExistsError:
                continue
            key = AESGCM.generate_key(bit_length=256)
            with os.fdopen(descriptor, "w", encoding="ascii") as handle:
                handle.write(base64.urlsafe_b64encode(key).decode())
            return key
        os.sched_yield()
    raise RuntimeError(f"the webhook key file {path} is empty")
