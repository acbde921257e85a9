"""The web session: a signed cookie holding who signed in and the session's CSRF token.

The cookie is signed with ``BOTARENA_SECRET_KEY`` (or a key made once and kept, mode 0600, in
the data folder), HttpOnly, SameSite=Lax, and Secure when the request came over HTTPS or the
configured public URL is https. Its content is readable by its holder but cannot be forged.
Only the pages use it: the API authenticates with Bearer tokens and never reads this cookie.
"""

from __future__ import annotations

import os
import secrets
from collections.abc import Callable
from http.cookies import SimpleCookie
from pathlib import Path
from typing import Any

from itsdangerous import BadSignature, URLSafeTimedSerializer
from starlette.datastructures import MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from botarena.settings import Settings
from botarena.storage import private_data_dir

COOKIE = "botarena_session"
MAX_AGE_SECONDS = 14 * 24 * 3600
_KEY_FILE = "session-secret"
_SALT = "botarena.web.session"


def secret_key(settings: Settings) -> str:
    """The configured key, else the one kept in the data folder (made on first use)."""
    if settings.secret_key is not None and settings.secret_key.get_secret_value():
        return settings.secret_key.get_secret_value()
    path = private_data_dir(settings) / _KEY_FILE
    try:
        return path.read_text(encoding="ascii").strip()
    except FileNotFoundError:
        pass
    key = secrets.token_urlsafe(48)
    # O_EXCL: of two processes starting at once, one writes and both read the same key.
    try:
        descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return _read_when_written(path)
    with os.fdopen(descriptor, "w", encoding="ascii") as handle:
        handle.write(key)
    return key


def _read_when_written(path: Path) -> str:
    for _ in range(100):
        key = path.read_text(encoding="ascii").strip()
        if key:
            return key
        os.sched_yield()
    raise RuntimeError(f"the session key file {path} is empty")


class WebSessionMiddleware:
    """Puts the cookie's content in ``scope["session"]`` (Starlette's ``request.session``)
    and writes the cookie back when a route changed it."""

    def __init__(self, app: ASGIApp, *, secret: Callable[[], str], public_https: bool) -> None:
        self.app = app
        self._secret = secret
        self._serializer: URLSafeTimedSerializer | None = None
        self.public_https = public_https

    @property
    def serializer(self) -> URLSafeTimedSerializer:
        # Read (or made) on first use, not when the app is built: that touches the data folder.
        if self._serializer is None:
            self._serializer = URLSafeTimedSerializer(self._secret(), salt=_SALT)
        return self._serializer

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] not in ("http", "websocket"):
            await self.app(scope, receive, send)
            return
        loaded = self._load(scope)
        scope["session"] = dict(loaded)

        async def send_with_cookie(message: Message) -> None:
            if message["type"] == "http.response.start":
                session: dict[str, Any] = scope["session"]
                if session != loaded:
                    headers = MutableHeaders(scope=message)
                    headers.append("Set-Cookie", self._cookie(scope, session))
            await send(message)

        await self.app(scope, receive, send_with_cookie)

    def _load(self, scope: Scope) -> dict[str, Any]:
        for key, value in scope.get("headers", []):
            if key != b"cookie":
                continue
            morsel = SimpleCookie(value.decode("latin-1")).get(COOKIE)
            if morsel is None:
                continue
            try:
                data = self.serializer.loads(morsel.value, max_age=MAX_AGE_SECONDS)
            except BadSignature:
                return {}
            return data if isinstance(data, dict) else {}
        return {}

    def _cookie(self, scope: Scope, session: dict[str, Any]) -> str:
        secure = self.public_https or scope.get("scheme") in ("https", "wss")
        flags = "; Path=/; HttpOnly; SameSite=Lax" + ("; Secure" if secure else "")
        if not session:
            return f"{COOKIE}=; Max-Age=0{flags}"
        value = self.serializer.dumps(session)
        assert isinstance(value, str)
        return f"{COOKIE}={value}; Max-Age={MAX_AGE_SECONDS}{flags}"
