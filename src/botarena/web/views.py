"""What the pages show, read through the services the API uses: the overview of the front
page, and a leaderboard sorted and cut into pages."""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from sqlalchemy.orm import Session

from botarena.agents.models import Agent
from botarena.agents.service import AgentService
from botarena.builds.queue import BuildQueue
from botarena.errors import bad_request, not_found
from botarena.games.registry import is_known_game, known_games
from botarena.matches.models import Match
from botarena.matches.service import MatchService
from botarena.ratings.history import RankChange
from botarena.ratings.service import RatingService, Standing
from botarena.settings import Settings

PAGE_SIZE = 50
TOP = 5
RECENT_MATCHES = 10


@dataclass(frozen=True)
class Counters:
    builds_queued: int
    builds_running: int
    matches_queued: int
    matches_running: int


@dataclass(frozen=True)
class MatchRow:
    """A match with its players' agents (None for one deleted since)."""

    match: Match
    agents: list[Agent | None]


@dataclass(frozen=True)
class GameTop:
    game: str
    title: str
    standings: list[Standing]


def counters(session: Session, settings: Settings) -> Counters:
    builds_queued, builds_running = BuildQueue(session).counts()
    matches = MatchService(session, settings).status_counts()
    return Counters(builds_queued, builds_running, matches["queued"], matches["running"])


def recent_matches(
    session: Session, settings: Settings, limit: int = RECENT_MATCHES
) -> list[MatchRow]:
    rows, _total = MatchService(session, settings).page(limit=limit, offset=0)
    agents = AgentService(session).many({p.agent_id for m in rows for p in m.players})
    return [MatchRow(m, [agents.get(p.agent_id) for p in m.players]) for m in rows]


def tops(session: Session, games: list[str] | None = None) -> list[GameTop]:
    """The first few of each game's leaderboard."""
    info = known_games()
    chosen = games if games is not None else sorted(info)
    service = RatingService(session)
    return [GameTop(g, info[g].title, service.leaderboard(g)[:TOP]) for g in chosen]


# Sortable columns: how to order by each, and whether the first click sorts high to low.
_Key = Callable[[Standing], Any]
COLUMNS: dict[str, tuple[_Key, bool]] = {
    "rank": (lambda s: s.rank, False),
    "agent": (lambda s: s.agent.name_key, False),
    "owner": (lambda s: s.agent.owner.username_key, False),
    "team": (lambda s: s.agent.team.name.lower() if s.agent.team else "", False),
    "mu": (lambda s: s.mu, True),
    "sigma": (lambda s: s.sigma, False),
    "score": (lambda s: s.score, True),
    "games": (lambda s: s.games, True),
    "wins": (lambda s: s.wins, True),
    "losses": (lambda s: s.losses, True),
    "draws": (lambda s: s.draws, True),
    "last": (lambda s: s.last_match_at.timestamp() if s.last_match_at else -math.inf, True),
}


@dataclass(frozen=True)
class Board:
    """One page of a game's leaderboard."""

    game: str
    title: str
    sort: str  # a column, with "-" in front for high to low
    page: int
    pages: int
    total: int
    rows: list[Standing]
    changes: dict[str, RankChange]  # each row's rank change since yesterday, by submission

    def change_of(self, row: Standing) -> RankChange | None:
        return self.changes.get(row.submission.id)

    @property
    def column(self) -> str:
        return self.sort.lstrip("-")

    @property
    def descending(self) -> bool:
        return self.sort.startswith("-")

    def sort_link(self, column: str) -> str:
        """The ``sort`` a column's header link asks for: the other way round when it is the
        current order, else the column's natural first direction."""
        if column == self.column:
            return column if self.descending else f"-{column}"
        return f"-{column}" if COLUMNS[column][1] else column

    def aria_sort(self, column: str) -> str:
        if column != self.column:
            return "none"
        return "descending" if self.descending else "ascending"


def board(session: Session, game: str, sort: str = "rank", page: int = 1) -> Board:
    """Page ``page`` of ``game``'s leaderboard in the order ``sort``; 404 for an unknown game,
    400 for an unknown column or a page that is not there."""
    if not is_known_game(game):
        raise not_found(f"No game named {game}", "See the games on the front page.")
    column = sort.removeprefix("-")
    if column not in COLUMNS:
        raise bad_request(f"Cannot sort by {sort!r}", f"Sort by one of: {', '.join(COLUMNS)}.")
    ratings = RatingService(session)
    standings = ratings.leaderboard(game)
    key = COLUMNS[column][0]
    # The board's own order (rank) breaks ties of every other column.
    ordered = sorted(standings, key=lambda s: s.rank)
    ordered.sort(key=key, reverse=sort.startswith("-"))
    pages = max(1, math.ceil(len(ordered) / PAGE_SIZE))
    if page < 1 or page > pages:
        raise not_found(f"No page {page} of this leaderboard", f"It has {pages} page(s).")
    start = (page - 1) * PAGE_SIZE
    title = known_games()[game].title
    shown = ordered[start : start + PAGE_SIZE]
    # Ranks then are among the whole board; only the shown rows' changes are kept.
    changes = ratings.rank_changes(game, standings)
    kept = {row.submission.id: changes[row.submission.id] for row in shown}
    return Board(game, title, sort, page, pages, len(ordered), shown, kept)
