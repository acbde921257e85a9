"""A tournament's matches played without agents, for the pages' tests: claimed as the
dispatcher claims them and recorded won by their first seat, as the dispatcher records one."""

from __future__ import annotations

import time

from playwright.sync_api import Page

from botarena.db.engine import SessionFactory
from botarena.events import EventBus
from botarena.executor.outcomes import AgentOutcome, MatchResult, MatchStatus
from botarena.matches.models import Match
from botarena.matches.queue import MatchQueue
from botarena.matches.recording import MatchRecorder
from botarena.ratings.hook import RatingsHook
from botarena.settings import Settings


def claim_queued(factory: SessionFactory, settings: Settings) -> list[str]:
    """Claim every queued match, as the dispatcher does (each enters ``running``)."""
    claimed = []
    with factory() as session:
        queue = MatchQueue(session, settings)
        while (match := queue.claim_next("browser-test", "127.0.0.1:1")) is not None:
            claimed.append(match.id)
        session.commit()
    return claimed


def first_seat_wins(factory: SessionFactory, settings: Settings, match_ids: list[str]) -> None:
    """Record each claimed match won by its first seat."""
    with factory() as session:
        for match_id in match_ids:
            match = session.get(Match, match_id)
            assert match is not None
            result = MatchResult(MatchStatus.FINISHED, 0, [1.0, 0.0], [AgentOutcome()] * 2, 9, 5)
            MatchRecorder(session, settings, RatingsHook()).record(match, result)
        session.commit()


def listening(page: Page, bus: EventBus, topic: str, timeout: float = 10) -> None:
    """Wait until ``page``'s live stream has subscribed to ``topic``. The wait goes through
    the page: the browser harness routes each request through this process, so a plain sleep
    would hold the stream's request back."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if bus.subscribers(topic):
            return
        page.wait_for_timeout(50)
    raise AssertionError(f"nobody listens on {topic}")
