"""The finals director inside ``botarena serve``: competitions reaching their end.

Every ``tournament_interval`` seconds it freezes the competitions whose final evaluation ended
or whose final end date passed (their standings stored once), then notes every competition
whose phase moved on, which the notifications tell its members of.
"""

from __future__ import annotations

import structlog

from botarena.competitions.service import CompetitionService
from botarena.db.engine import SessionFactory
from botarena.finals.service import FinalsService
from botarena.settings import Settings
from botarena.workers import Workers

log = structlog.get_logger(__name__)


class FinalsDirector(Workers):
    """One thread; :meth:`tick` is one pass."""

    def __init__(self, factory: SessionFactory, settings: Settings) -> None:
        super().__init__()
        self.factory = factory
        self.settings = settings

    def start(self) -> None:
        self._spawn_every("finals", self.settings.tournament_interval, self.tick)

    def tick(self) -> int:
        """Settle what ended and announce phase changes; returns how many were frozen."""
        with self.factory() as session:
            frozen = FinalsService(session, self.settings).settle()
        with self.factory() as session:
            CompetitionService(session).announce_phases()
        return frozen
