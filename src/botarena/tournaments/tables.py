"""Free-for-all rounds: each table of up to the game's number of players plays one match (per
game of the pairing), and that match counts as a game between every two entrants at it.

A table of k entrants is stored as one :class:`TournamentGame` per two of them (``a`` seated
before ``b`` at the table), each pointing at the table's match; the standings then read them
as any other games (see :mod:`botarena.tournaments.standings`). The rows of one match are
settled, replayed or declared void together.
"""

from __future__ import annotations

import random
from collections.abc import Callable, Sequence
from itertools import combinations

import structlog
from sqlalchemy.orm import Session

from botarena.agents.models import Submission
from botarena.clock import utcnow
from botarena.ids import new_id
from botarena.matches.models import Match, seat_places
from botarena.matches.service import MatchService
from botarena.matches.status import MatchState
from botarena.settings import Settings
from botarena.tournaments.models import Tournament, TournamentGame

log = structlog.get_logger(__name__)

IN_FLIGHT = (MatchState.QUEUED.value, MatchState.RUNNING.value)


Void = Callable[[Tournament, TournamentGame, str], None]


def start_tables(
    session: Session,
    settings: Settings,
    tournament: Tournament,
    tables: Sequence[list[str]],
    void: Void,
) -> int:
    """Add the current round's rows for ``tables`` and queue their matches; returns the
    number of matches queued. The seats turn by one for each further game of a pairing."""
    queued = 0
    for table, seats in enumerate(tables):
        pairs = list(combinations(seats, 2))
        for repeat in range(tournament.games_per_pairing):
            rows = [
                TournamentGame(
                    id=new_id("tgm"),
                    tournament_id=tournament.id,
                    round=tournament.current_round,
                    table=table,
                    game_index=repeat * len(pairs) + index,
                    a=a,
                    b=b,
                    a_first=True,
                    replays=0,
                    void=False,
                )
                for index, (a, b) in enumerate(pairs)
            ]
            tournament.games.extend(rows)
            queued += _queue(session, settings, tournament, rows, void)
    return queued


def settle_tables(
    session: Session,
    settings: Settings,
    tournament: Tournament,
    undecided: Sequence[TournamentGame],
    max_replays: int,
    void: Void,
) -> int:
    """Record each ended table match on its rows, replay the ones the platform could not
    play (``max_replays`` times, then the rows are void); returns the matches queued."""
    by_match: dict[tuple[int, str | None], list[TournamentGame]] = {}
    for row in undecided:
        by_match.setdefault((row.table, row.match_id), []).append(row)
    queued = 0
    for rows in by_match.values():
        match = session.get(Match, rows[0].match_id) if rows[0].match_id else None
        if match is not None and match.status in IN_FLIGHT:
            continue
        if match is not None and match.status == MatchState.FINISHED.value:
            _record(match, rows)
            continue
        why = match.error if match is not None else "its match was deleted"
        if rows[0].replays >= max_replays:
            for row in rows:
                void(tournament, row, f"not played after {row.replays + 1} attempts; last: {why}")
            continue
        for row in rows:
            row.replays += 1
        log.warning(
            "tournament table replayed",
            tournament_id=tournament.id,
            match_id=rows[0].match_id,
            why=why,
        )
        queued += _queue(session, settings, tournament, rows, void)
    return queued


def table_seats(rows: Sequence[TournamentGame], pairs_per_game: int) -> list[str]:
    """The seats of the match of ``rows`` (one game of one table): the table's order, turned
    by one for each earlier game of the pairing."""
    order: list[str] = []
    for row in sorted(rows, key=lambda r: r.game_index):
        for entrant in (row.a, row.b):
            if entrant is not None and entrant not in order:
                order.append(entrant)
    turn = (rows[0].game_index // max(pairs_per_game, 1)) % max(len(order), 1)
    return order[turn:] + order[:turn]


def _record(match: Match, rows: Sequence[TournamentGame]) -> None:
    places = seat_places(match) or []
    seat_of = {p.submission_id: p.player for p in match.players}
    now = utcnow()
    for row in rows:
        mine, theirs = places[seat_of[row.a]], places[seat_of[row.b or ""]]
        row.score_a = 1.0 if mine < theirs else 0.5 if mine == theirs else 0.0
        row.decided_at = now


def _queue(
    session: Session,
    settings: Settings,
    tournament: Tournament,
    rows: Sequence[TournamentGame],
    void: Void,
) -> int:
    """Queue the match of one game of one table; its rows are void when an entrant's
    submission is gone."""
    seats = table_seats(rows, len(rows))
    submissions = [session.get(Submission, entrant) for entrant in seats]
    if any(s is None for s in submissions):
        for row in rows:
            void(tournament, row, "an entrant's submission was deleted")
        return 0
    first = rows[0]
    key = f"{tournament.seed}:{first.round}:{first.table}:{first.game_index}"
    match = MatchService(session, settings).add(
        tournament.game,
        [(s.agent, s) for s in submissions if s is not None],
        seed=random.Random(key).randrange(2**31),  # noqa: S311 - a game's seed, not a secret
        origin=f"tournament {tournament.id}, round {first.round}",
    )
    for row in rows:
        row.match_id = match.id
    return 1
