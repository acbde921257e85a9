"""Request and response bodies of the tournaments API."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from pydantic import ConfigDict, Field

from botarena.api.schema import JSON_NUMBER, ApiModel
from botarena.matches.status import MatchState
from botarena.tournaments.models import Tournament, TournamentGame
from botarena.tournaments.service import TournamentView
from botarena.tournaments.standings import SINGLE_ELIMINATION, TIEBREAKS, Standing

Format = Literal["round_robin", "swiss", "single_elimination", "free_for_all"]


class TournamentCreate(ApiModel):
    """A tournament to run: the game and format; rounds (swiss and free-for-all only), games
    per pairing, the entrants (default: every active submission of the game) and the seed
    are optional. A free-for-all (made for games of more than two players) seats each
    round's entrants at tables of the game's usual size (pairs for a two-player game), by
    seed and then by standings."""

    # The description says what the rules refuse: rounds for a format without a count.
    model_config = ConfigDict(
        json_schema_extra={
            "anyOf": [
                {"properties": {"format": {"const": "swiss"}}},
                {"properties": {"format": {"const": "free_for_all"}}},
                {"properties": {"rounds": {"type": "null"}}},
            ]
        }
    )

    game: str = Field(min_length=1, max_length=64)
    format: Format
    rounds: Annotated[int, Field(ge=1, json_schema_extra={"maximum": 100}), JSON_NUMBER] | None = (
        None
    )
    games_per_pairing: Annotated[int, Field(ge=1, le=15), JSON_NUMBER] = 1
    submission_ids: list[str] | None = Field(
        default=None, max_length=1024, json_schema_extra={"minItems": 2}
    )
    seed: Annotated[int, Field(ge=0, le=2**31 - 1), JSON_NUMBER] | None = None


class Progress(ApiModel):
    rounds_total: int
    current_round: int
    games_planned: int  # pairings' games, before replays and deciding games
    games_decided: int
    games_in_flight: int
    games_void: int
    replays: int


class StandingOut(ApiModel):
    rank: int
    seed: int
    submission_id: str
    agent_id: str
    agent_name: str
    version: int
    points: float
    wins: int
    draws: int
    losses: int
    byes: int
    buchholz: float
    sonneborn_berger: float
    head_to_head: float
    round_reached: int | None


class GameOut(ApiModel):
    id: str
    game_index: int
    match_id: str | None
    match_status: str | None
    a_first: bool
    score_a: float | None
    replays: int
    void: bool


class PairingOut(ApiModel):
    """Two entrants (submission ids) at one table of a round; ``b`` null is a bye."""

    table: int
    a: str
    b: str | None
    points_a: float
    points_b: float
    games: list[GameOut]


class RoundOut(ApiModel):
    round: int
    pairings: list[PairingOut]


class BracketSlot(ApiModel):
    """One pairing of the bracket; entrants not known yet are null."""

    a: str | None
    b: str | None
    bye: bool
    winner: str | None


class BracketRound(ApiModel):
    round: int
    pairings: list[BracketSlot]


class TournamentSummary(ApiModel):
    id: str
    game: str
    competition_id: str | None
    format: str
    status: str
    seed: int
    rounds: int
    current_round: int
    games_per_pairing: int
    entrants: int
    created_at: datetime
    finished_at: datetime | None

    @classmethod
    def of(cls, tournament: Tournament) -> TournamentSummary:
        return cls(
            id=tournament.id,
            game=tournament.game,
            competition_id=tournament.competition_id,
            format=tournament.format,
            status=tournament.status,
            seed=tournament.seed,
            rounds=tournament.rounds,
            current_round=tournament.current_round,
            games_per_pairing=tournament.games_per_pairing,
            entrants=len(tournament.entrants),
            created_at=tournament.created_at,
            finished_at=tournament.finished_at,
        )


class TournamentOut(TournamentSummary):
    """A tournament in full: progress, standings (with the tie-break order that made them),
    every round's pairings and games, and for single elimination the bracket."""

    progress: Progress
    tiebreaks: list[str]
    standings: list[StandingOut]
    schedule: list[RoundOut]  # every round so far, its pairings and their games
    bracket: list[BracketRound] | None

    @classmethod
    def of_view(cls, view: TournamentView) -> TournamentOut:
        t = view.tournament
        summary = TournamentSummary.of(t)
        games = t.games
        in_flight = sum(
            1
            for g in games
            if g.match_id
            and not g.decided
            and view.matches.get(g.match_id) is not None
            and view.matches[g.match_id].status
            in (MatchState.QUEUED.value, MatchState.RUNNING.value)
        )
        return cls(
            **summary.model_dump(),
            progress=Progress(
                rounds_total=t.rounds,
                current_round=t.current_round,
                games_planned=view.planned_games,
                games_decided=sum(1 for g in games if g.b and not g.void and g.score_a is not None),
                games_in_flight=in_flight,
                games_void=sum(1 for g in games if g.void),
                replays=sum(g.replays for g in games),
            ),
            tiebreaks=list(TIEBREAKS[t.format]),
            standings=[_standing(view, line) for line in view.standings],
            schedule=_rounds(view),
            bracket=_bracket(view),
        )


def _standing(view: TournamentView, line: Standing) -> StandingOut:
    submission = view.submissions.get(line.entrant)
    return StandingOut(
        rank=line.rank,
        seed=line.seed,
        submission_id=line.entrant,
        agent_id=submission.agent_id if submission else "",
        agent_name=submission.agent.name if submission else "(deleted)",
        version=submission.version if submission else 0,
        points=line.points,
        wins=line.wins,
        draws=line.draws,
        losses=line.losses,
        byes=line.byes,
        buchholz=line.buchholz,
        sonneborn_berger=line.sonneborn_berger,
        head_to_head=line.head_to_head,
        round_reached=line.round_reached if view.tournament.format == SINGLE_ELIMINATION else None,
    )


def _rounds(view: TournamentView) -> list[RoundOut]:
    # One pairing per two entrants at a table: a free-for-all table holds several.
    tables: dict[tuple[int, int, str, str | None], list[TournamentGame]] = {}
    for game in view.tournament.games:
        tables.setdefault((game.round, game.table, game.a, game.b), []).append(game)
    out: dict[int, list[PairingOut]] = {}
    for (number, table, _a, _b), games in sorted(tables.items(), key=lambda item: item[0][:2]):
        counted = [g for g in games if g.b and not g.void and g.score_a is not None]
        points_a = sum(g.score_a or 0.0 for g in counted)
        out.setdefault(number, []).append(
            PairingOut(
                table=table,
                a=games[0].a,
                b=games[0].b,
                points_a=points_a,
                points_b=len(counted) - points_a,
                games=[
                    GameOut(
                        id=g.id,
                        game_index=g.game_index,
                        match_id=g.match_id,
                        match_status=view.matches[g.match_id].status
                        if g.match_id in view.matches
                        else None,
                        a_first=g.a_first,
                        score_a=g.score_a,
                        replays=g.replays,
                        void=g.void,
                    )
                    for g in games
                    if g.b is not None
                ],
            )
        )
    return [RoundOut(round=number, pairings=pairings) for number, pairings in out.items()]


def _bracket(view: TournamentView) -> list[BracketRound] | None:
    if view.bracket is None:
        return None
    return [
        BracketRound(
            round=number,
            pairings=[
                BracketSlot(a=slot.a, b=slot.b, bye=slot.bye, winner=slot.winner) for slot in slots
            ],
        )
        for number, slots in enumerate(view.bracket, start=1)
    ]
