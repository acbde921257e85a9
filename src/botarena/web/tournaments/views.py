"""What the tournaments' pages show, read through the tournament service the API uses: the
list with its filters, and a tournament's standings (columns in the order its format breaks
ties), rounds with their games, and for single elimination the bracket's layout."""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

from sqlalchemy.orm import Session

from botarena.accounts.repository import UserRepository
from botarena.agents.models import Agent
from botarena.errors import bad_request, not_found
from botarena.games.registry import is_known_game, known_games
from botarena.settings import Settings
from botarena.tournaments.models import CANCELLED, FINISHED, RUNNING, Tournament
from botarena.tournaments.schemas import GameOut, PairingOut, Progress, TournamentOut
from botarena.tournaments.service import TournamentService, TournamentView
from botarena.tournaments.standings import SINGLE_ELIMINATION, TIEBREAKS, Standing
from botarena.web.tournaments.bracket import Layout, layout, round_name

PAGE_SIZE = 25
STATUSES = (RUNNING, FINISHED, CANCELLED)
FORMAT_NAMES = {
    "round_robin": "round robin",
    "swiss": "Swiss",
    "single_elimination": "single elimination",
    "free_for_all": "free-for-all",
}


@dataclass(frozen=True)
class Criterion:
    """A column of the standings: its heading, how the caption names it, its value."""

    heading: str
    phrase: str
    value: Callable[[Standing, Tournament], str]


def _number(value: float) -> str:
    return f"{value:g}"


def _reached(line: Standing, tournament: Tournament) -> str:
    if line.round_reached > tournament.rounds:
        return "Won the final"
    return round_name(max(1, line.round_reached), tournament.rounds)


# Every criterion of standings.TIEBREAKS, by its key there.
CRITERIA: dict[str, Criterion] = {
    "points": Criterion("Points", "points", lambda s, _t: _number(s.points)),
    "headToHead": Criterion(
        "Head-to-head", "head-to-head points", lambda s, _t: _number(s.head_to_head)
    ),
    "buchholz": Criterion("Buchholz", "Buchholz", lambda s, _t: _number(s.buchholz)),
    "sonnebornBerger": Criterion(
        "Sonneborn-Berger", "Sonneborn-Berger", lambda s, _t: _number(s.sonneborn_berger)
    ),
    "wins": Criterion("Wins", "wins", lambda s, _t: str(s.wins)),
    "roundReached": Criterion("Round reached", "the round reached", _reached),
    "seed": Criterion("Seed", "seed", lambda s, _t: str(s.seed)),
}


def columns_of(fmt: str) -> list[str]:
    """The standings' columns after rank, agent and owner: points first, then each tie-break
    in the order the format applies it."""
    order = TIEBREAKS[fmt]
    return list(order) if order[0] == "points" else ["points", *order]


def order_caption(fmt: str) -> str:
    """The order of the standings in one sentence."""
    phrases = [CRITERIA[key].phrase for key in TIEBREAKS[fmt]]
    return "Ordered by " + ", then ".join(phrases) + "."


def title_of(tournament: Tournament) -> str:
    games = known_games()
    game = games[tournament.game].title if tournament.game in games else tournament.game
    return f"{game} {FORMAT_NAMES.get(tournament.format, tournament.format)}"


@dataclass(frozen=True)
class Entrant:
    submission_id: str
    agent: Agent | None  # None once deleted
    name: str
    version: int | None


@dataclass(frozen=True)
class StandingRow:
    rank: int
    entrant: Entrant
    owner: str
    values: list[str]  # one per column


@dataclass(frozen=True)
class GameRow:
    number: int  # from 1
    match_id: str | None
    status: str | None  # its match's status
    result: str  # in words once decided, else empty
    replays: int


@dataclass(frozen=True)
class PairingRow:
    table: int
    a: Entrant
    b: Entrant | None  # None: a bye
    score: str
    winner: str | None  # a submission id
    games: list[GameRow]


@dataclass(frozen=True)
class RoundRow:
    number: int
    name: str
    pairings: list[PairingRow]


@dataclass(frozen=True)
class TournamentPage:
    tournament: Tournament
    title: str
    game_title: str
    format_name: str
    creator: str | None
    progress: Progress
    columns: list[tuple[str, str]]  # (key, heading)
    caption: str
    standings: list[StandingRow]
    rounds: list[RoundRow]
    bracket: Layout | None  # single elimination only

    @property
    def running(self) -> bool:
        return self.tournament.status == RUNNING

    @property
    def match_ids(self) -> frozenset[str]:
        return frozenset(
            g.match_id for r in self.rounds for p in r.pairings for g in p.games if g.match_id
        )


def tournament_page(session: Session, settings: Settings, tournament_id: str) -> TournamentPage:
    """404 for no such tournament."""
    view = TournamentService(session, settings).view(tournament_id)
    shown = TournamentOut.of_view(view)  # the API's numbers, the same on the page
    t = view.tournament
    entrants = {sub_id: _entrant(view, sub_id) for sub_id in (e.submission_id for e in t.entrants)}
    keys = columns_of(t.format)
    standings = [
        StandingRow(
            line.rank,
            entrants[line.entrant],
            _owner(entrants[line.entrant]),
            [CRITERIA[key].value(line, t) for key in keys],
        )
        for line in view.standings
    ]
    names = {sub_id: e.name for sub_id, e in entrants.items()}
    creator = UserRepository(session).get(t.created_by) if t.created_by else None
    games = known_games()
    return TournamentPage(
        t,
        title_of(t),
        games[t.game].title if t.game in games else t.game,
        FORMAT_NAMES.get(t.format, t.format),
        creator.username if creator else None,
        shown.progress,
        [(key, CRITERIA[key].heading) for key in keys],
        order_caption(t.format),
        standings,
        [
            RoundRow(
                r.round,
                _round_name(t, r.round),
                [_pairing(view, entrants, r.round, p) for p in r.pairings],
            )
            for r in shown.schedule
        ],
        layout(view.bracket, names) if view.bracket is not None else None,
    )


def _entrant(view: TournamentView, submission_id: str) -> Entrant:
    submission = view.submissions.get(submission_id)
    if submission is None:
        return Entrant(submission_id, None, "(deleted agent)", None)
    return Entrant(submission_id, submission.agent, submission.agent.name, submission.version)


def _owner(entrant: Entrant) -> str:
    return entrant.agent.owner.username if entrant.agent else "—"


def _round_name(tournament: Tournament, number: int) -> str:
    if tournament.format == SINGLE_ELIMINATION:
        return f"{round_name(number, tournament.rounds)} (round {number})"
    return f"Round {number}"


def _pairing(
    view: TournamentView, entrants: dict[str, Entrant], number: int, pairing: PairingOut
) -> PairingRow:
    a = entrants[pairing.a]
    b = entrants[pairing.b] if pairing.b is not None else None
    return PairingRow(
        pairing.table,
        a,
        b,
        "bye" if b is None else f"{_number(pairing.points_a)} - {_number(pairing.points_b)}",
        _winner(view, number, pairing),
        [_game(index, g, a, b) for index, g in enumerate(pairing.games, start=1)],
    )


def _winner(view: TournamentView, number: int, pairing: PairingOut) -> str | None:
    if pairing.b is None:
        return pairing.a
    if view.bracket is not None:  # deciding games and the seed settle a level elimination
        slots = view.bracket[number - 1]
        return slots[pairing.table].winner if pairing.table < len(slots) else None
    if any(g.score_a is None and not g.void for g in pairing.games):
        return None
    if pairing.points_a == pairing.points_b:
        return None
    return pairing.a if pairing.points_a > pairing.points_b else pairing.b


def _game(number: int, game: GameOut, a: Entrant, b: Entrant | None) -> GameRow:
    if game.void:
        result = "void: the platform could not play it"
    elif game.score_a is None:
        result = ""
    elif game.score_a == 0.5:
        result = "draw"
    else:
        result = f"{(a if game.score_a == 1.0 or b is None else b).name} won"
    return GameRow(number, game.match_id, game.match_status, result, game.replays)


@dataclass(frozen=True)
class Filters:
    game: str = ""
    status: str = ""

    def query(self, page: int | None = None) -> dict[str, object]:
        """The list's query string for these filters (and a page)."""
        found = {k: v for k, v in vars(self).items() if v}
        return {**found, "page": page} if page else found


@dataclass(frozen=True)
class TournamentRow:
    tournament: Tournament
    title: str
    format_name: str
    entrants: int

    @property
    def rounds_played(self) -> int:
        """Rounds ended: all of a finished tournament's, those before the current one else."""
        t = self.tournament
        return t.current_round if t.status == FINISHED else max(0, t.current_round - 1)


@dataclass(frozen=True)
class TournamentList:
    filters: Filters
    games: list[tuple[str, str]]  # (id, title)
    statuses: tuple[str, ...]
    rows: list[TournamentRow]
    page: int
    pages: int
    total: int


def tournament_list(
    session: Session, settings: Settings, filters: Filters, page: int
) -> TournamentList:
    """One page of the tournaments that pass the filters, newest first; 400 for a filter that
    names nothing known, 404 for a page past the end."""
    games = sorted(((g, info.title) for g, info in known_games().items()), key=lambda g: g[1])
    if filters.game and not is_known_game(filters.game):
        raise bad_request(f"No game named {filters.game}", "Choose a game from the list.", "game")
    if filters.status and filters.status not in STATUSES:
        raise bad_request(f"No tournament status {filters.status}", "Choose a status.", "status")
    rows, total = TournamentService(session, settings).page(
        limit=PAGE_SIZE,
        offset=(page - 1) * PAGE_SIZE,
        game=filters.game or None,
        status=filters.status or None,
    )
    pages = max(1, math.ceil(total / PAGE_SIZE))
    if page > pages:
        raise not_found(f"No page {page} of these tournaments", f"There are {pages} page(s).")
    listed = [
        TournamentRow(t, title_of(t), FORMAT_NAMES.get(t.format, t.format), len(t.entrants))
        for t in rows
    ]
    return TournamentList(filters, games, STATUSES, listed, page, pages, total)
