"""The matches this process's dispatcher is playing, and stopping them when they are cancelled.

A cancel is written to the database by whichever process serves it; its status notice
reaches every dispatcher on the event bus (between processes through PostgreSQL's
LISTEN/NOTIFY), and the one playing the match cancels its executor call, which stops the match
and kills its agents. Should a notice be lost, the next heartbeat finds the lease gone (a
cancelled match is held by no one) and the call is cancelled all the same.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Protocol

import structlog

from botarena.events import Notice
from botarena.matches.events import TOPIC_PREFIX
from botarena.matches.status import MatchState

log = structlog.get_logger(__name__)

# The last cancels heard, also of matches not (yet) playing here: for a call that starts late.
_REMEMBERED = 256


class Cancellable(Protocol):
    def cancel(self) -> None: ...


class PlayingMatches:
    """Each match playing here and its executor call; cancels heard on the bus."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._calls: dict[str, Cancellable] = {}
        self._cancelled: OrderedDict[str, None] = OrderedDict()

    @contextmanager
    def playing(self, match_id: str, call: Cancellable) -> Iterator[None]:
        """``call`` plays ``match_id`` for the block; cancelled when the block ends (a call
        whose match ended is not hurt by that) or when the match is cancelled meanwhile."""
        with self._lock:
            self._calls[match_id] = call
            already = match_id in self._cancelled
        try:
            if already:
                call.cancel()
            yield
        finally:
            with self._lock:
                self._calls.pop(match_id, None)
            call.cancel()

    def cancelled(self, match_id: str) -> bool:
        """Whether a cancel of ``match_id`` was heard (lately: the last few are kept)."""
        with self._lock:
            return match_id in self._cancelled

    def heard(self, notice: Notice) -> None:
        """A match status notice of the bus (quick: it runs on the bus's thread)."""
        if notice.data.get("status") != MatchState.CANCELLED.value:
            return
        match_id = notice.topic.removeprefix(TOPIC_PREFIX)
        with self._lock:
            self._cancelled[match_id] = None
            while len(self._cancelled) > _REMEMBERED:
                self._cancelled.popitem(last=False)
            call = self._calls.get(match_id)
        if call is not None:
            log.info("match cancelled; stopping it on its executor", match_id=match_id)
            call.cancel()
