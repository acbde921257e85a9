"""The tournament director inside ``botarena serve``: moves every running tournament on.

Every ``tournament_interval`` seconds it reads each running tournament's current round
(see :mod:`botarena.tournaments.rounds`), under the tournament row's lock so that two servers
never advance the same one twice.
"""

from __future__ import annotations

import structlog
from sqlalchemy import select

from botarena.db.engine import SessionFactory
from botarena.settings import Settings
from botarena.tournaments import rounds
from botarena.tournaments.models import RUNNING, Tournament
from botarena.workers import Workers

log = structlog.get_logger(__name__)


class TournamentDirector(Workers):
    """One thread; :meth:`tick` is one pass over the running tournaments."""

    def __init__(self, factory: SessionFactory, settings: Settings) -> None:
        super().__init__()
        self.factory = factory
        self.settings = settings

    def start(self) -> None:
        self._spawn_every("tournaments", self.settings.tournament_interval, self.tick)

    def tick(self) -> int:
        """Advance every running tournament; returns the number of matches queued."""
        with self.factory() as session:
            running = session.scalars(
                select(Tournament.id).where(Tournament.status == RUNNING)
            ).all()
        queued = 0
        for tournament_id in running:
            try:
                queued += self._advance(tournament_id)
            except Exception:  # one broken tournament does not hold up the others
                log.exception("advancing a tournament failed", tournament_id=tournament_id)
        return queued

    def _advance(self, tournament_id: str) -> int:
        with self.factory() as session:
            tournament = session.get(Tournament, tournament_id, with_for_update=True)
            if tournament is None or tournament.status != RUNNING:
                return 0
            queued = rounds.advance(session, self.settings, tournament)
            session.commit()
            return queued
