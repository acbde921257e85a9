"""What the event bus hears of ratings: a game's leaderboard changed (``leaderboard:<game>``).

A rating is created or changed when a ranked match finishes (and when every rating is
recomputed); one notice per game and transaction says the board must be read again.
"""

from __future__ import annotations

from botarena.events import Notice
from botarena.ratings.models import Rating

TOPIC_PREFIX = "leaderboard:"


def leaderboard_topic(game: str) -> str:
    return f"{TOPIC_PREFIX}{game}"


def leaderboard_notices(row: Rating) -> list[Notice]:
    """The notice that ``row``'s game has a new leaderboard (a watcher of the bus)."""
    return [Notice(leaderboard_topic(row.game), {"game": row.game})]
