"""A competition's end: the final evaluation, its leaderboard, and the frozen standings.

After the deadline an admin starts the final evaluation with a number of rounds: a round-robin
tournament of the competition (the tournaments' own scheduler) in which every selected
submission meets every other that many times in each seat. Its leaderboard's ratings come
only from those matches (OpenSkill from a fresh start, in the order they finished, shown with
their uncertainty), never from the ladder. When the tournament ends (or the admin freezes the
competition, or its final end date passes) the standings are stored once; nothing changes
them afterwards, and no match of the competition is played any more.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

import structlog
from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from botarena.accounts.models import User
from botarena.agents.models import Agent, Submission
from botarena.agents.selection import selected_submissions
from botarena.audit.actions import Action
from botarena.audit.context import ActionContext
from botarena.audit.service import AuditLog
from botarena.competitions.models import Competition, FinalStanding
from botarena.competitions.phases import SELECTED_ONLY, Phase, now, phase_of
from botarena.competitions.repository import CompetitionRepository
from botarena.errors import bad_request, conflict, forbidden, invalid, not_found
from botarena.games.registry import get_game
from botarena.matches.models import Match, MatchPlayer
from botarena.matches.status import MatchState
from botarena.ratings.book import DEFAULT_MU, DEFAULT_SIGMA, match_places, update
from botarena.ratings.models import Rating
from botarena.ratings.service import RatingService
from botarena.settings import Settings
from botarena.teams.models import Team
from botarena.tournaments.models import RUNNING, Tournament, TournamentGame
from botarena.tournaments.service import TournamentService, TournamentSpec
from botarena.tournaments.standings import FREE_FOR_ALL, ROUND_ROBIN

log = structlog.get_logger(__name__)

MAX_FINAL_ROUNDS = 50


@dataclass(frozen=True)
class BoardRow:
    """One row of a competition's leaderboard, live or final."""

    rank: int
    submission_id: str
    version: int
    agent_id: str
    agent_name: str
    owner_id: str
    team_id: str | None
    team_name: str | None
    mu: float
    sigma: float
    games: int
    wins: int
    losses: int
    draws: int
    last_match_at: datetime | None

    @property
    def score(self) -> float:
        return self.mu - 3 * self.sigma


@dataclass(frozen=True)
class Board:
    """A competition's leaderboard: ``final`` when its ratings come from the final
    evaluation only (``stored`` once frozen)."""

    competition: Competition
    phase: Phase
    final: bool
    stored: bool
    rows: list[BoardRow]


class FinalsService:
    """Starting the final evaluation, freezing, and every competition leaderboard."""

    def __init__(self, session: Session, settings: Settings) -> None:
        self.session = session
        self.settings = settings

    def competition(self, ref: str) -> Competition:
        found = CompetitionRepository(self.session).by_ref(ref)
        if found is None:
            raise not_found(f"Competition {ref} not found")
        return found

    def start(self, user: User, ref: str, rounds: int, context: ActionContext) -> Competition:
        """Start the final evaluation (admins; audited): after the deadline, once."""
        if not user.is_admin:
            raise forbidden("Only admins may start a final evaluation")
        if not 1 <= rounds <= MAX_FINAL_ROUNDS:
            raise invalid("rounds", f"Rounds must be between 1 and {MAX_FINAL_ROUNDS}")
        competition = self.competition(ref)
        phase = phase_of(competition)
        if competition.is_default or phase != Phase.CLOSED:
            raise conflict(
                f"Competition {competition.title} is {phase.value}: a final evaluation starts "
                "once, after the deadline and before the competition is frozen"
            )
        entrants = selected_submissions(self.session, competition)
        if len(entrants) < 2:
            raise conflict(
                f"A final evaluation needs 2 selected submissions; {competition.title} has "
                f"{len(entrants)}"
            )
        competition.final_started_at = now()
        competition.final_rounds = rounds
        AuditLog(self.session).record(
            context,
            Action.COMPETITION_FINAL_STARTED,
            target_type="competition",
            target_id=competition.id,
            details={"rounds": rounds, "entrants": len(entrants)},
        )
        spec = final_tournament(competition.game, rounds, entrants, competition.id)
        # Commits the tournament, its first round and the competition's start together.
        tournament, _queued = TournamentService(self.session, self.settings).create(
            user, spec, context
        )
        competition.final_tournament_id = tournament.id
        self.session.commit()
        log.info("final evaluation started", competition_id=competition.id, rounds=rounds)
        return competition

    def freeze(self, user: User, ref: str, context: ActionContext) -> Competition:
        """Freeze now (admins; audited): a running final evaluation stops, the standings are
        stored as they stand (its matches so far; without one, the ladder's)."""
        if not user.is_admin:
            raise forbidden("Only admins may freeze a competition")
        competition = self.competition(ref)
        if competition.is_default:
            raise bad_request("A game's default competition is never frozen")
        if competition.frozen_at is not None:
            raise conflict(f"Competition {competition.title} is frozen already")
        tournament = self._final_tournament(competition)
        if tournament is not None and tournament.status == RUNNING:
            TournamentService(self.session, self.settings).stop(tournament.id, context)
        self._store(competition)
        AuditLog(self.session).record(
            context,
            Action.COMPETITION_FROZEN,
            target_type="competition",
            target_id=competition.id,
            details={"by": "admin"},
        )
        self.session.commit()
        return competition

    def settle(self) -> int:
        """Freeze the competitions whose final evaluation ended, and store the standings of
        those whose final end date passed; returns how many were frozen (a background pass)."""
        frozen = 0
        candidates = self.session.scalars(
            select(Competition).where(
                Competition.is_default.is_(False), Competition.frozen_at.is_(None)
            )
        ).all()
        for competition in candidates:
            phase = phase_of(competition)
            tournament = self._final_tournament(competition)
            ended = tournament is not None and tournament.status != RUNNING
            if phase == Phase.FROZEN or (phase == Phase.FINAL and ended):
                system = ActionContext.system("system/finals")
                if tournament is not None and not ended:
                    # The final end date came first: what is unplayed stays unplayed.
                    TournamentService(self.session, self.settings).stop(tournament.id, system)
                self._store(competition)
                AuditLog(self.session).record(
                    system,
                    Action.COMPETITION_FROZEN,
                    target_type="competition",
                    target_id=competition.id,
                    details={"by": "final evaluation" if ended else "final end date"},
                )
                self.session.commit()
                frozen += 1
        return frozen

    def board(self, ref: str) -> Board:
        """The competition's leaderboard: the stored final standings once frozen, the final
        evaluation's own ratings while it plays, else the ladder's (after the deadline, of
        the selected submissions only)."""
        competition = self.competition(ref)
        phase = phase_of(competition)
        if competition.frozen_at is not None or phase == Phase.FROZEN:
            stored = self._stored(competition)
            if stored or competition.frozen_at is not None:
                return Board(competition, phase, True, True, stored)
        if competition.final_started_at is not None:
            return Board(competition, phase, True, False, self._final_rows(competition))
        only = selected_submissions(self.session, competition) if phase in SELECTED_ONLY else None
        rows = self._ladder_rows(competition, only)
        return Board(competition, phase, False, False, rows)

    # -- helpers -------------------------------------------------------------------------
    def _final_tournament(self, competition: Competition) -> Tournament | None:
        if competition.final_tournament_id is None:
            return None
        return self.session.get(Tournament, competition.final_tournament_id)

    def _store(self, competition: Competition) -> None:
        """Keep the standings as they are now, and mark the competition frozen."""
        rows = (
            self._final_rows(competition)
            if competition.final_started_at is not None
            else self._live_rows(competition)
        )
        self.session.execute(
            delete(FinalStanding).where(FinalStanding.competition_id == competition.id)
        )
        for row in rows:
            self.session.add(
                FinalStanding(
                    competition_id=competition.id,
                    submission_id=row.submission_id,
                    rank=row.rank,
                    agent_id=row.agent_id,
                    agent_name=row.agent_name,
                    team_id=row.team_id,
                    team_name=row.team_name,
                    version=row.version,
                    mu=row.mu,
                    sigma=row.sigma,
                    games=row.games,
                    wins=row.wins,
                    losses=row.losses,
                    draws=row.draws,
                )
            )
        competition.frozen_at = now()
        log.info("competition frozen", competition_id=competition.id, standings=len(rows))

    def _live_rows(self, competition: Competition) -> list[BoardRow]:
        """Without a final evaluation: the ladder's ratings of the selected submissions."""
        return self._ladder_rows(competition, selected_submissions(self.session, competition))

    def _ladder_rows(self, competition: Competition, only: list[str] | None) -> list[BoardRow]:
        standings = RatingService(self.session).leaderboard(competition.game, competition.id, only)
        teams = self._team_names(competition)
        return [
            BoardRow(
                rank=s.rank,
                submission_id=s.submission.id,
                version=s.submission.version,
                agent_id=s.agent.id,
                agent_name=s.agent.name,
                owner_id=s.agent.owner_id,
                team_id=teams.get(s.agent.id, (None, None))[0],
                team_name=teams.get(s.agent.id, (None, None))[1],
                mu=s.mu,
                sigma=s.sigma,
                games=s.games,
                wins=s.wins,
                losses=s.losses,
                draws=s.draws,
                last_match_at=s.last_match_at,
            )
            for s in standings
        ]

    def _final_rows(self, competition: Competition) -> list[BoardRow]:
        """Ratings from the final evaluation's finished matches only, from a fresh start."""
        tournament = self._final_tournament(competition)
        if tournament is None:
            return []
        entrants = [e.submission_id for e in tournament.entrants]
        match_ids = select(TournamentGame.match_id).where(
            TournamentGame.tournament_id == tournament.id
        )
        finished = self.session.execute(
            select(Match.id, Match.winner, Match.scores, Match.finished_at)
            .where(Match.id.in_(match_ids), Match.status == MatchState.FINISHED.value)
            .order_by(Match.finished_at.asc(), Match.id.asc())
        ).all()
        seats: dict[str, list[str]] = {}
        for match_id, submission_id in self.session.execute(
            select(MatchPlayer.match_id, MatchPlayer.submission_id)
            .where(MatchPlayer.match_id.in_([m for m, _, _, _ in finished]))
            .order_by(MatchPlayer.match_id, MatchPlayer.player)
        ):
            seats.setdefault(match_id, []).append(submission_id)
        info = {
            sid: (version, agent_id, name, owner, team)
            for sid, version, agent_id, name, owner, team in self.session.execute(
                select(
                    Submission.id,
                    Submission.version,
                    Agent.id,
                    Agent.name,
                    Agent.owner_id,
                    Agent.team_id,
                )
                .join(Agent, Agent.id == Submission.agent_id)
                .where(Submission.id.in_(entrants))
            )
        }
        ratings = {
            sid: Rating(
                submission_id=sid,
                agent_id=info[sid][1] if sid in info else "",
                game=competition.game,
                competition_id=competition.id,
                mu=DEFAULT_MU,
                sigma=DEFAULT_SIGMA,
                games=0,
                wins=0,
                losses=0,
                draws=0,
            )
            for sid in entrants
        }
        for match_id, winner, scores, finished_at in finished:
            played = seats.get(match_id, [])
            seated = [ratings[s] for s in played if s in ratings]
            if len(seated) >= 2 and len(seated) == len(played):
                places = match_places(winner, scores, len(seated))
                update(seated, places, finished_at or now(), match_id)
        team_names = dict(
            self.session.execute(
                select(Team.id, Team.name).where(Team.competition_id == competition.id)
            ).all()
        )
        unranked = [
            BoardRow(
                rank=0,
                submission_id=sid,
                version=info[sid][0],
                agent_id=info[sid][1],
                agent_name=info[sid][2],
                owner_id=info[sid][3],
                team_id=info[sid][4],
                team_name=team_names.get(info[sid][4] or ""),
                mu=r.mu,
                sigma=r.sigma,
                games=r.games,
                wins=r.wins,
                losses=r.losses,
                draws=r.draws,
                last_match_at=r.last_match_at,
            )
            for sid, r in ratings.items()
            if sid in info
        ]
        unranked.sort(key=lambda b: (-b.score, -b.games, b.agent_name.lower()))
        return [_ranked(row, index) for index, row in enumerate(unranked, start=1)]

    def _stored(self, competition: Competition) -> list[BoardRow]:
        rows = self.session.scalars(
            select(FinalStanding)
            .where(FinalStanding.competition_id == competition.id)
            .order_by(FinalStanding.rank)
        ).all()
        owners = dict(
            self.session.execute(
                select(Agent.id, Agent.owner_id).where(Agent.id.in_([r.agent_id for r in rows]))
            ).all()
        )
        return [
            BoardRow(
                rank=r.rank,
                submission_id=r.submission_id,
                version=r.version,
                agent_id=r.agent_id,
                agent_name=r.agent_name,
                owner_id=owners.get(r.agent_id, ""),
                team_id=r.team_id,
                team_name=r.team_name,
                mu=r.mu,
                sigma=r.sigma,
                games=r.games,
                wins=r.wins,
                losses=r.losses,
                draws=r.draws,
                last_match_at=None,
            )
            for r in rows
        ]

    def _team_names(self, competition: Competition) -> dict[str, tuple[str | None, str | None]]:
        """Each agent of the competition: its team's id and name."""
        return {
            agent_id: (team_id, name)
            for agent_id, team_id, name in self.session.execute(
                select(Agent.id, Team.id, Team.name)
                .join(Team, Team.id == Agent.team_id)
                .where(Agent.competition_id == competition.id)
            )
        }


def _ranked(row: BoardRow, rank: int) -> BoardRow:
    return BoardRow(**{**row.__dict__, "rank": rank})


def final_tournament(
    game: str, rounds: int, entrants: Sequence[str], competition_id: str
) -> TournamentSpec:
    """The tournament a final evaluation plays: for a game of two, a round robin in which
    every pair meets ``rounds`` times in each seat (alternating); for a game of more players
    (four geese), ``rounds`` rounds of free-for-all, every submission at a table of the game's
    usual size each round (tables drawn from the standings so far)."""
    if get_game(game).players > 2:
        return TournamentSpec(
            game=game,
            format=FREE_FOR_ALL,
            rounds=rounds,
            submission_ids=entrants,
            competition_id=competition_id,
        )
    return TournamentSpec(
        game=game,
        format=ROUND_ROBIN,
        games_per_pairing=2 * rounds,  # both seats, alternating
        submission_ids=entrants,
        competition_id=competition_id,
    )
