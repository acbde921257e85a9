"""The rules of tournaments: who may start one, who enters, and reading where one stands."""

from __future__ import annotations

import random
from collections.abc import Sequence
from dataclasses import dataclass

import structlog
from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from botarena.accounts.models import User
from botarena.agents.models import Agent, Submission
from botarena.agents.status import SubmissionStatus
from botarena.audit.actions import Action
from botarena.audit.context import ActionContext
from botarena.audit.service import AuditLog
from botarena.clock import utcnow
from botarena.competitions.repository import CompetitionRepository
from botarena.db.paging import page_of
from botarena.errors import bad_request, conflict, forbidden, invalid, not_found
from botarena.games.registry import UnknownGameError, get_game
from botarena.ids import new_id
from botarena.matches.models import Match
from botarena.matches.queue import MatchQueue
from botarena.matches.status import MatchState
from botarena.ratings.book import DEFAULT_MU, DEFAULT_SIGMA
from botarena.ratings.models import Rating
from botarena.settings import Settings
from botarena.tournaments import rounds
from botarena.tournaments.models import (
    CANCELLED,
    FINISHED,
    RUNNING,
    Tournament,
    TournamentEntrant,
)
from botarena.tournaments.pairing import (
    elimination_rounds,
    free_for_all_tables,
    swiss_round_count,
)
from botarena.tournaments.standings import (
    FREE_FOR_ALL,
    ROUND_ROBIN,
    SINGLE_ELIMINATION,
    SWISS,
    Standing,
    standings,
)

log = structlog.get_logger(__name__)

# Submissions with a built artifact that nothing is known against.
PLAYABLE = (
    SubmissionStatus.ACTIVE.value,
    SubmissionStatus.SUCCESS.value,
    SubmissionStatus.INACTIVE.value,
)
MAX_GAMES = 10_000
MAX_SWISS_ROUNDS = 100


@dataclass(frozen=True)
class TournamentSpec:
    """What an admin asks for; ``None`` means the default."""

    game: str
    format: str
    rounds: int | None = None
    games_per_pairing: int = 1
    submission_ids: Sequence[str] | None = None
    seed: int | None = None
    # The competition it belongs to (a competition's final evaluation); else the game's
    # default one.
    competition_id: str | None = None


@dataclass(frozen=True)
class TournamentView:
    """A tournament with what is derived for showing it."""

    tournament: Tournament
    submissions: dict[str, Submission]
    standings: list[Standing]
    matches: dict[str, Match]
    planned_games: int
    bracket: list[list[rounds.Slot]] | None  # single elimination only


class TournamentService:
    """Starts and reads tournaments; each public method is one unit of work."""

    def __init__(self, session: Session, settings: Settings) -> None:
        self.session = session
        self.settings = settings

    def create(
        self, user: User, spec: TournamentSpec, context: ActionContext
    ) -> tuple[Tournament, int]:
        """Enter the submissions, freeze the list, and queue the first round (audited);
        returns the tournament and the number of matches queued."""
        if not user.is_admin:
            raise forbidden("Only admins may create tournaments")
        try:
            table_size = get_game(spec.game).players
        except UnknownGameError as exc:
            raise invalid("game", exc.message) from exc
        if spec.rounds is not None and spec.format not in (SWISS, FREE_FOR_ALL):
            raise invalid("rounds", "rounds applies to free-for-all and swiss tournaments only")
        entrants = self._entrants(spec)
        planned_rounds = _planned_rounds(spec.format, len(entrants), spec.rounds)
        planned = _planned_games(spec.format, len(entrants), planned_rounds, table_size)
        if planned * spec.games_per_pairing > MAX_GAMES:
            raise bad_request(
                f"The tournament would play {planned * spec.games_per_pairing} games; "
                f"the most is {MAX_GAMES}",
                "Enter fewer submissions, or play fewer rounds or games per pairing.",
            )
        seed = spec.seed if spec.seed is not None else random.randrange(2**31)  # noqa: S311
        tournament = Tournament(
            id=new_id("tou"),
            game=spec.game,
            competition_id=spec.competition_id
            or CompetitionRepository(self.session).default_for(spec.game).id,
            format=spec.format,
            seed=seed,
            rounds=planned_rounds,
            games_per_pairing=spec.games_per_pairing,
            current_round=0,
            created_by=user.id,
        )
        tournament.entrants = [
            TournamentEntrant(submission_id=s.id, agent_id=s.agent_id, seed=index + 1)
            for index, s in enumerate(self._seeded(entrants, seed))
        ]
        tournament.games = []
        self.session.add(tournament)
        self.session.flush()
        queued = rounds.start(self.session, self.settings, tournament)
        AuditLog(self.session).record(
            context,
            Action.TOURNAMENT_CREATED,
            target_type="tournament",
            target_id=tournament.id,
            details={
                "game": spec.game,
                "format": spec.format,
                "entrants": len(entrants),
                "rounds": planned_rounds,
                "seed": seed,
            },
        )
        self.session.commit()
        log.info(
            "tournament created",
            tournament_id=tournament.id,
            game=spec.game,
            format=spec.format,
            entrants=len(entrants),
            rounds=planned_rounds,
            seed=seed,
        )
        return tournament, queued

    def cancel(self, user: User, tournament_id: str, context: ActionContext) -> int:
        """Stop a running tournament (audited): its queued and running matches are cancelled
        (a late result changes nothing) and no round follows. Returns the matches cancelled."""
        if not user.is_admin:
            raise forbidden("Only admins may cancel tournaments")
        cancelled = self.stop(tournament_id, context)
        log.info("tournament cancelled", tournament_id=tournament_id, by=user.username)
        return cancelled

    def stop(self, tournament_id: str, context: ActionContext) -> int:
        """:meth:`cancel` without asking who may (the platform's own, e.g. a competition
        frozen at its end date); audited and committed alike."""
        tournament = self.session.get(Tournament, tournament_id, with_for_update=True)
        if tournament is None:
            raise not_found(f"Tournament {tournament_id} not found")
        if tournament.status != RUNNING:
            raise conflict(f"Tournament {tournament_id} is {tournament.status} already")
        match_ids = [g.match_id for g in tournament.games if g.match_id and not g.decided]
        cancelled = 0
        queue = MatchQueue(self.session, self.settings)
        for match in self.session.scalars(select(Match).where(Match.id.in_(match_ids))):
            if match.status in (MatchState.QUEUED.value, MatchState.RUNNING.value):
                # A running one is stopped on its executor too (its dispatcher hears of it).
                queue.cancel(match, f"tournament {tournament_id} cancelled")
                cancelled += 1
        tournament.status = CANCELLED
        tournament.finished_at = utcnow()
        AuditLog(self.session).record(
            context,
            Action.TOURNAMENT_CANCELLED,
            target_type="tournament",
            target_id=tournament_id,
            details={"matchesCancelled": cancelled},
        )
        self.session.commit()
        return cancelled

    def view(self, tournament_id: str) -> TournamentView:
        tournament = self.session.get(
            Tournament,
            tournament_id,
            options=[selectinload(Tournament.entrants), selectinload(Tournament.games)],
        )
        if tournament is None:
            raise not_found(f"Tournament {tournament_id} not found")
        ids = [e.submission_id for e in tournament.entrants]
        submissions = {
            s.id: s
            for s in self.session.scalars(
                select(Submission)
                .where(Submission.id.in_(ids))
                .options(selectinload(Submission.agent))
            )
        }
        match_ids = [g.match_id for g in tournament.games if g.match_id]
        matches = {
            m.id: m for m in self.session.scalars(select(Match).where(Match.id.in_(match_ids)))
        }
        elimination = tournament.format == SINGLE_ELIMINATION
        lines = standings(
            tournament.format,
            rounds.seeds(tournament),
            rounds.decided_games(tournament),
            rounds.eliminated_in(tournament) if elimination else None,
            tournament.current_round + (tournament.status == FINISHED),
        )
        planned = _planned_games(
            tournament.format, len(ids), tournament.rounds, _table_size(tournament.game)
        )
        return TournamentView(
            tournament,
            submissions,
            lines,
            matches,
            planned * tournament.games_per_pairing,
            rounds.bracket(tournament) if elimination else None,
        )

    def page(
        self, *, limit: int, offset: int, game: str | None = None, status: str | None = None
    ) -> tuple[Sequence[Tournament], int]:
        query = select(Tournament)
        if game is not None:
            query = query.where(Tournament.game == game)
        if status is not None:
            query = query.where(Tournament.status == status)
        return page_of(
            self.session,
            query.options(selectinload(Tournament.entrants)),  # a summary needs no games
            (Tournament.created_at.desc(), Tournament.id.desc()),
            limit,
            offset,
        )

    # -- helpers -------------------------------------------------------------------------
    def _entrants(self, spec: TournamentSpec) -> list[Submission]:
        if spec.submission_ids is None:
            found = list(
                self.session.scalars(
                    select(Submission)
                    .join(Agent, Agent.id == Submission.agent_id)
                    .where(
                        Agent.game == spec.game,
                        Submission.status == SubmissionStatus.ACTIVE.value,
                    )
                    .order_by(Submission.id)
                )
            )
            if len(found) < 2:
                # The request is sound; the platform's state does not allow it yet.
                raise conflict(
                    f"A tournament needs at least 2 entrants; {spec.game} has "
                    f"{len(found)} active submission{'s' if len(found) != 1 else ''}",
                    "Activate more submissions, or list submissionIds.",
                )
            return found
        chosen: list[Submission] = []
        for sub_id in spec.submission_ids:
            if any(s.id == sub_id for s in chosen):
                raise invalid("submissionIds", f"Submission {sub_id} is listed twice")
            submission = self.session.get(Submission, sub_id)
            if submission is None:
                raise not_found(f"Submission {sub_id} not found")
            if submission.agent.game != spec.game:
                raise invalid(
                    "submissionIds",
                    f"Submission {sub_id} plays {submission.agent.game}, not {spec.game}",
                )
            if submission.status not in PLAYABLE:
                raise invalid(
                    "submissionIds",
                    f"Submission {sub_id} cannot play (status: {submission.status})",
                )
            chosen.append(submission)
        if len(chosen) < 2:
            raise invalid("submissionIds", "A tournament needs at least 2 entrants")
        return chosen

    def _seeded(self, entrants: list[Submission], seed: int) -> list[Submission]:
        """Best first by the leaderboard's score (mu - 3 sigma); level ones in an order drawn
        from the tournament's seed."""
        ratings = {
            r.submission_id: r.mu - 3 * r.sigma
            for r in self.session.scalars(
                select(Rating).where(Rating.submission_id.in_([s.id for s in entrants]))
            )
        }
        start = DEFAULT_MU - 3 * DEFAULT_SIGMA
        order = sorted(entrants, key=lambda s: s.id)
        random.Random(seed).shuffle(order)  # noqa: S311 - a draw, not a secret
        return sorted(order, key=lambda s: -ratings.get(s.id, start))


def _table_size(game: str) -> int:
    """A free-for-all table's size: the game's usual number of players."""
    try:
        return get_game(game).players
    except UnknownGameError:
        return 2


def _planned_rounds(fmt: str, entrants: int, asked: int | None) -> int:
    if fmt == ROUND_ROBIN:
        return entrants if entrants % 2 else entrants - 1  # one round each sits out, if odd
    if fmt == SINGLE_ELIMINATION:
        return elimination_rounds(entrants)
    if asked is not None and not 1 <= asked <= MAX_SWISS_ROUNDS:
        raise invalid("rounds", f"rounds must be between 1 and {MAX_SWISS_ROUNDS}")
    return asked if asked is not None else swiss_round_count(entrants)


def _planned_games(fmt: str, entrants: int, planned_rounds: int, table_size: int = 2) -> int:
    """Pairings to play (byes aside), before replays and deciding games; in a free-for-all,
    every two entrants at a table count as one."""
    if fmt == FREE_FOR_ALL:
        tables = free_for_all_tables([str(n) for n in range(entrants)], table_size)
        return planned_rounds * sum(len(t) * (len(t) - 1) // 2 for t in tables)
    if fmt == ROUND_ROBIN:
        return entrants * (entrants - 1) // 2
    if fmt == SINGLE_ELIMINATION:
        return entrants - 1
    return planned_rounds * (entrants // 2)
