"""Playing a tournament round by round: queue a round's matches, read what became of them,
replay the ones the platform could not play, and start the next round or finish.

Everything here is decided from the database and the tournament's seed, so a restarted
server carries on where it stopped, and the same seed with the same results gives the same
pairings and the same match seeds.
"""

from __future__ import annotations

import random
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass

import structlog
from sqlalchemy.orm import Session

from botarena.agents.models import Submission
from botarena.clock import utcnow
from botarena.games.registry import UnknownGameError, get_game
from botarena.ids import new_id
from botarena.matches.models import Match
from botarena.matches.service import MatchService
from botarena.matches.status import MatchState
from botarena.settings import Settings
from botarena.tournaments.models import FINISHED, Tournament, TournamentGame
from botarena.tournaments.pairing import (
    Pairing,
    first_elimination_round,
    free_for_all_tables,
    next_elimination_round,
    round_robin_rounds,
    swiss_pairings,
)
from botarena.tournaments.standings import (
    FREE_FOR_ALL,
    ROUND_ROBIN,
    SINGLE_ELIMINATION,
    SWISS,
    Game,
    standings,
)
from botarena.tournaments.tables import settle_tables, start_tables

log = structlog.get_logger(__name__)

# A game whose match ends ``error`` (the platform's failure, never an agent's) is played
# again this many times before it is declared void.
MAX_REPLAYS = 3
# An elimination pairing still level after its games gets this many deciding games at most;
# if it is level even then, the better seed goes through.
MAX_DECIDERS = 3

IN_FLIGHT = (MatchState.QUEUED.value, MatchState.RUNNING.value)


def seeds(tournament: Tournament) -> list[str]:
    """The entrants' submission ids in seed order, best first."""
    return [e.submission_id for e in sorted(tournament.entrants, key=lambda e: e.seed)]


def decided_games(tournament: Tournament) -> list[Game]:
    """The games the standings count: byes and decided, non-void games."""
    return [
        Game(round=g.round, a=g.a, b=g.b, score_a=g.score_a or 0.0)
        for g in tournament.games
        if g.is_bye or (not g.void and g.score_a is not None)
    ]


def table_winners(tournament: Tournament, round_number: int) -> dict[int, str | None]:
    """Who won each table of an elimination round; None while it is undecided or level."""
    by_table: dict[int, list[TournamentGame]] = {}
    for game in tournament.games:
        if game.round == round_number:
            by_table.setdefault(game.table, []).append(game)
    return {table: _winner(tournament, games) for table, games in sorted(by_table.items())}


def eliminated_in(tournament: Tournament) -> dict[str, int]:
    """The round in which each knocked-out entrant lost."""
    out: dict[str, int] = {}
    for number in range(1, tournament.current_round + 1):
        for table, winner in table_winners(tournament, number).items():
            if winner is None:
                continue
            game = next(g for g in tournament.games if g.round == number and g.table == table)
            loser = game.b if winner == game.a else game.a
            if loser is not None:
                out[loser] = number
    return out


@dataclass(frozen=True)
class Slot:
    """One pairing of an elimination bracket; entrants not known yet are None."""

    a: str | None
    b: str | None
    bye: bool
    winner: str | None


def bracket(tournament: Tournament) -> list[list[Slot]]:
    """Every round of an elimination bracket, the ones to come with the entrants known so
    far."""
    rounds: list[list[Slot]] = []
    previous: list[str | None] = []
    for number in range(1, tournament.rounds + 1):
        if number <= tournament.current_round:
            winners = table_winners(tournament, number)
            firsts = {
                g.table: g for g in tournament.games if g.round == number and g.game_index == 0
            }
            slots = [
                Slot(firsts[t].a, firsts[t].b, firsts[t].b is None, winners[t])
                for t in sorted(firsts)
            ]
        else:
            slots = [
                Slot(one, two, False, None)
                for one, two in zip(previous[::2], previous[1::2], strict=True)
            ]
        rounds.append(slots)
        previous = [slot.winner for slot in slots]
    return rounds


def start(session: Session, settings: Settings, tournament: Tournament) -> int:
    """Queue the first round; returns the number of matches queued."""
    if tournament.format == FREE_FOR_ALL:
        tournament.current_round += 1
        return start_tables(session, settings, tournament, _next_tables(tournament), _void)
    if tournament.format == SINGLE_ELIMINATION:
        pairings = first_elimination_round(seeds(tournament))
    else:
        pairings = _next_pairings(tournament)
    return _start_round(session, settings, tournament, pairings)


def advance(session: Session, settings: Settings, tournament: Tournament) -> int:
    """Read the current round's matches, replay errored ones, and when the round is done start
    the next one or finish. Returns the number of matches queued; the caller commits."""
    current = [g for g in tournament.games if g.round == tournament.current_round]
    undecided = [g for g in current if not g.decided]
    if tournament.format == FREE_FOR_ALL:
        queued = settle_tables(session, settings, tournament, undecided, MAX_REPLAYS, _void)
    else:
        queued = sum(_settle(session, settings, tournament, g) for g in undecided)
    if any(not g.decided for g in current):
        return queued
    if tournament.format == SINGLE_ELIMINATION:
        added, deciding = _deciders(session, settings, tournament, current)
        if added:
            return queued + deciding
    if tournament.current_round >= tournament.rounds:
        tournament.status = FINISHED
        tournament.finished_at = utcnow()
        log.info("tournament finished", tournament_id=tournament.id)
        return queued
    if tournament.format == FREE_FOR_ALL:
        tournament.current_round += 1
        tables = _next_tables(tournament)
        return queued + start_tables(session, settings, tournament, tables, _void)
    if tournament.format == SINGLE_ELIMINATION:
        winners = table_winners(tournament, tournament.current_round)
        pairings = next_elimination_round([w for w in winners.values() if w is not None])
    else:
        pairings = _next_pairings(tournament)
    return queued + _start_round(session, settings, tournament, pairings)


def _next_pairings(tournament: Tournament) -> list[Pairing]:
    if tournament.format == ROUND_ROBIN:
        return round_robin_rounds(seeds(tournament))[tournament.current_round]
    ranking = [
        line.entrant for line in standings(SWISS, seeds(tournament), decided_games(tournament))
    ]
    met = {frozenset((g.a, g.b)) for g in tournament.games if g.b is not None}
    had_bye = {g.a for g in tournament.games if g.b is None}
    return swiss_pairings(ranking, met, had_bye)


def _next_tables(tournament: Tournament) -> list[list[str]]:
    """A free-for-all round's tables: the seeds first, then the standings, cut in order."""
    ranking = [
        line.entrant
        for line in standings(FREE_FOR_ALL, seeds(tournament), decided_games(tournament))
    ]
    try:
        size = get_game(tournament.game).players
    except UnknownGameError:
        size = 2  # a game no longer installed: its matches fail and the games are void
    return free_for_all_tables(ranking, max(size, 2))


def _start_round(
    session: Session, settings: Settings, tournament: Tournament, pairings: Sequence[Pairing]
) -> int:
    tournament.current_round += 1
    number = tournament.current_round
    firsts = Counter(g.a if g.a_first else g.b for g in tournament.games if g.b is not None)
    queued = 0
    for table, (one, two) in enumerate(pairings):
        if two is None:
            tournament.games.append(_game(tournament, number, table, 0, one, None, True))
            continue
        # Whoever has moved first less often so far moves first in the pairing's first game.
        a_first = firsts[one] <= firsts[two]
        for index in range(tournament.games_per_pairing):
            first = a_first if index % 2 == 0 else not a_first
            game = _game(tournament, number, table, index, one, two, first)
            tournament.games.append(game)
            queued += _queue(session, settings, tournament, game)
    log.info("tournament round started", tournament_id=tournament.id, round=number)
    return queued


def _game(
    tournament: Tournament,
    number: int,
    table: int,
    index: int,
    a: str,
    b: str | None,
    a_first: bool,
) -> TournamentGame:
    return TournamentGame(
        id=new_id("tgm"),
        tournament_id=tournament.id,
        round=number,
        table=table,
        game_index=index,
        a=a,
        b=b,
        a_first=a_first,
        replays=0,
        void=False,
        decided_at=utcnow() if b is None else None,
    )


def _queue(
    session: Session, settings: Settings, tournament: Tournament, game: TournamentGame
) -> int:
    """Queue the match that plays ``game``; a game whose entrant is gone is void."""
    a, b = session.get(Submission, game.a), session.get(Submission, game.b or "")
    if a is None or b is None:
        _void(tournament, game, "an entrant's submission was deleted")
        return 0
    seats = [(a.agent, a), (b.agent, b)] if game.a_first else [(b.agent, b), (a.agent, a)]
    match = MatchService(session, settings).add(
        tournament.game,
        seats,
        seed=_match_seed(tournament, game),
        origin=f"tournament {tournament.id}, round {game.round}",
    )
    game.match_id = match.id
    return 1


def _match_seed(tournament: Tournament, game: TournamentGame) -> int:
    """The same for a game and each replay of it: a replay is the same game played again."""
    key = f"{tournament.seed}:{game.round}:{game.table}:{game.game_index}"
    return random.Random(key).randrange(2**31)  # noqa: S311 - a game's seed, not a secret


def _settle(
    session: Session, settings: Settings, tournament: Tournament, game: TournamentGame
) -> int:
    """Record an undecided game's result if its match ended; replay it if the platform could
    not play it. Returns the number of matches queued."""
    match = session.get(Match, game.match_id) if game.match_id else None
    if match is not None and match.status in IN_FLIGHT:
        return 0
    if match is not None and match.status == MatchState.FINISHED.value:
        seat_of_a = 0 if game.a_first else 1
        game.score_a = 0.5 if match.winner is None else float(match.winner == seat_of_a)
        game.decided_at = utcnow()
        return 0
    why = match.error if match is not None else "its match was deleted"
    if game.replays >= MAX_REPLAYS:
        _void(tournament, game, f"not played after {game.replays + 1} attempts; last: {why}")
        return 0
    game.replays += 1
    log.warning(
        "tournament game replayed",
        tournament_id=tournament.id,
        game_id=game.id,
        match_id=game.match_id,
        why=why,
    )
    return _queue(session, settings, tournament, game)


def _void(tournament: Tournament, game: TournamentGame, why: str) -> None:
    game.void = True
    game.decided_at = utcnow()
    log.warning("tournament game void", tournament_id=tournament.id, game_id=game.id, why=why)


def _winner(tournament: Tournament, games: Sequence[TournamentGame]) -> str | None:
    first = games[0]
    if first.b is None:
        return first.a
    if any(not g.decided for g in games):
        return None
    counted = [g for g in games if not g.void]
    points_a = sum(g.score_a or 0.0 for g in counted)
    points_b = len(counted) - points_a
    if points_a != points_b:
        return first.a if points_a > points_b else first.b
    if len(games) < tournament.games_per_pairing + MAX_DECIDERS:
        return None  # level: a deciding game comes next
    rank = {e.submission_id: e.seed for e in tournament.entrants}
    return min((first.a, first.b), key=lambda entrant: rank[entrant])


def _deciders(
    session: Session, settings: Settings, tournament: Tournament, current: list[TournamentGame]
) -> tuple[int, int]:
    """Add one deciding game to each level table of the finished elimination round; returns
    the games added and the matches queued (a decider that cannot be queued is void at once,
    and the next pass adds another)."""
    added = queued = 0
    for table, winner in table_winners(tournament, tournament.current_round).items():
        if winner is not None:
            continue
        games = [g for g in current if g.table == table]
        last = games[-1]
        game = _game(
            tournament,
            tournament.current_round,
            table,
            last.game_index + 1,
            last.a,
            last.b,
            not last.a_first,
        )
        tournament.games.append(game)
        added += 1
        queued += _queue(session, settings, tournament, game)
    return added, queued
