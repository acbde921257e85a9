"""Failed sign-ins counted per username and per client address, so that passwords cannot be
guessed at speed.

Only failures count: a sign-in is checked before its password is, and counted after the
password turns out wrong. Once either key has ``max_failures`` failures inside the moving
window, every sign-in for that username, and every sign-in from that address, is refused with
429 until the oldest failure leaves the window, even with the right password, so a guesser
learns nothing from an answer given during the lockout.

The counts live in the memory of one server process (``limits``' memory storage): a restart
forgets them, and several server processes count separately. One limiter is made per
application by the composition root, never at import time.
"""

from __future__ import annotations

import math
import time

import structlog
from limits import RateLimitItemPerSecond
from limits.storage import MemoryStorage, Storage
from limits.strategies import MovingWindowRateLimiter

from botarena.errors import AppError, too_many

log = structlog.get_logger(__name__)


class LoginLimiter:
    """The sign-in guard: ``check`` before verifying a password, ``failed`` after a wrong one.

    The web pages' sign-in form calls the same two methods; their one-time login links count
    failures against the address alone (``username`` None).
    """

    def __init__(
        self,
        max_failures: int,
        window_seconds: int,
        storage: Storage | None = None,
    ) -> None:
        self.max_failures = max_failures
        self.window_seconds = window_seconds
        self._item = RateLimitItemPerSecond(max_failures, window_seconds)
        self._limiter = MovingWindowRateLimiter(storage or MemoryStorage())

    def check(self, username: str | None, address: str | None) -> None:
        """Raise 429 (with ``Retry-After``) while the username or the address is locked."""
        keys = _keys(username, address)
        locked = [key for key in keys if not self._limiter.test(self._item, *key)]
        if not locked:
            return
        now = time.time()
        wait = max(
            math.ceil(self._limiter.get_window_stats(self._item, *key).reset_time - now)
            for key in locked
        )
        log.warning(
            "sign-in refused: too many failures",
            locked=[kind for kind, _ in locked],
            retry_after=wait,
        )
        raise self._refusal(wait)

    def failed(self, username: str | None, address: str | None) -> None:
        """Count one failed sign-in against the username and the address."""
        for key in _keys(username, address):
            self._limiter.hit(self._item, *key)

    def _refusal(self, wait: int) -> AppError:
        minutes = self.window_seconds / 60
        window = f"{minutes:g} minutes" if minutes >= 1 else f"{self.window_seconds} seconds"
        return too_many(
            "Too many failed sign-ins",
            f"Sign-in for this username or from this address is locked after "
            f"{self.max_failures} failures in {window}; try again in {max(wait, 1)} seconds.",
            wait,
        )


def _keys(username: str | None, address: str | None) -> list[tuple[str, str]]:
    # Usernames are unique regardless of case, so their failures are counted that way too.
    keys = [] if username is None else [("user", username.lower())]
    if address:
        keys.append(("addr", address))
    return keys
