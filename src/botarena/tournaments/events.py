"""What the event bus hears of tournaments: a tournament moved on (``tournament:<id>``).

The director records everything a tournament's page shows changing: a game decided (its
match read), replayed or void, a round drawn (new games), the tournament finished or
cancelled. Each of those writes a ``TournamentGame`` or the ``Tournament`` row in the
director's (or the service's) transaction, so watching those two tables gives one notice per
tournament and commit, published only after the commit. The standings and the rounds change
only then, never when a match merely ends (its result counts once the director has read it),
so this one topic is what the standings need; a page that also shows its matches' own
statuses as they run watches their ``match:<id>`` topics besides.
"""

from __future__ import annotations

from botarena.events import Notice
from botarena.tournaments.models import Tournament, TournamentGame

TOPIC_PREFIX = "tournament:"


def tournament_topic(tournament_id: str) -> str:
    return f"{TOPIC_PREFIX}{tournament_id}"


def tournament_notices(row: Tournament) -> list[Notice]:
    """A tournament created or changed (its round, its status): a watcher of the bus."""
    return [Notice(tournament_topic(row.id), {"tournament": row.id})]


def game_notices(row: TournamentGame) -> list[Notice]:
    """A game of a tournament drawn, decided, replayed or void: a watcher of the bus."""
    return [Notice(tournament_topic(row.tournament_id), {"tournament": row.tournament_id})]
