"""The ladder scheduler inside ``botarena serve``: keeps ranked matches flowing per
competition, pairing only within one competition.

Every ``ladder_interval`` seconds, for each competition with at least two active agents, whose
game's ladder is not paused and whose phase plays (not upcoming, not frozen; after the deadline
only the submissions selected for the final play): while fewer than ``ladder_concurrency``
ladder matches are queued or running and fewer than ``ladder_rate`` were created in the last
minute, it asks the pairing policy (see :mod:`botarena.ladder.pairing`) for the next pair and
queues a ranked match between those two submissions (a group of the game's usual size for a
game of more players, e.g. four geese). Everything it counts is in the database, so a
restarted server carries on.
"""

from __future__ import annotations

import random
from datetime import timedelta

from sqlalchemy import ColumnElement, and_, func, select
from sqlalchemy.orm import Session

from botarena.agents.models import Agent, Submission
from botarena.agents.selection import SELECTABLE, selected_submissions
from botarena.agents.status import SubmissionStatus
from botarena.clock import utcnow
from botarena.competitions.models import Competition
from botarena.competitions.phases import PLAYING, SELECTED_ONLY, phase_of
from botarena.db.engine import SessionFactory
from botarena.games.registry import UnknownGameError, get_game
from botarena.ladder.pairing import Candidate, choose_group
from botarena.ladder.service import is_paused
from botarena.matches.models import Match, MatchPlayer
from botarena.matches.service import MatchService
from botarena.matches.status import MatchState
from botarena.ratings.book import DEFAULT_MU, DEFAULT_SIGMA
from botarena.ratings.models import Rating
from botarena.settings import Settings
from botarena.workers import Workers

RECENT = timedelta(hours=24)
IN_FLIGHT = (MatchState.QUEUED.value, MatchState.RUNNING.value)
COUNTED = (*IN_FLIGHT, MatchState.FINISHED.value)


class LadderScheduler(Workers):
    """One thread that tops up each game's ladder; :meth:`tick` is one pass."""

    def __init__(
        self, factory: SessionFactory, settings: Settings, rng: random.Random | None = None
    ) -> None:
        super().__init__()
        self.factory = factory
        self.settings = settings
        self.rng = rng or random.Random()  # noqa: S311 - scheduling, not secrets

    def start(self) -> None:
        self._spawn_every("ladder", self.settings.ladder_interval, self.tick)

    def tick(self) -> int:
        """Schedule what the ladder owes now; returns how many matches were queued."""
        queued = 0
        with self.factory() as session:
            for competition_id in _competitions_with_agents(session):
                competition = session.get(Competition, competition_id)
                if competition is None or is_paused(session, competition.game):
                    continue
                phase = phase_of(competition)
                if phase not in PLAYING:
                    continue
                only = (
                    set(selected_submissions(session, competition))
                    if phase in SELECTED_ONLY
                    else None
                )
                queued += self._top_up(session, competition, only)
        return queued

    def _top_up(self, session: Session, competition: Competition, only: set[str] | None) -> int:
        now = utcnow()
        game = competition.game
        ladder = (
            Match.competition_id == competition.id,
            Match.ranked.is_(True),
            Match.created_by.is_(None),
        )
        in_flight = _count(session, *ladder, Match.status.in_(IN_FLIGHT))
        last_minute = _count(session, *ladder, Match.created_at > now - timedelta(minutes=1))
        queued = 0
        while (
            in_flight + queued < self.settings.ladder_concurrency
            and last_minute + queued < self.settings.ladder_rate
        ):
            candidates = _candidates(session, competition.id, only)
            group = choose_group(
                list(candidates.values()),
                self.rng,
                size=_group_size(game),
                window=self.settings.ladder_window,
                placement_games=self.settings.ladder_placement_games,
            )
            if group is None:
                break
            seats = [_seat(session, candidate.submission_id) for candidate in group]
            MatchService(session, self.settings).add(
                game, seats, ranked=True, origin="scheduled by the ladder"
            )
            session.commit()
            queued += 1
        return queued


def _competitions_with_agents(session: Session) -> list[str]:
    """Competitions with two agents or more that have an active or selectable submission."""
    return list(
        session.scalars(
            select(Agent.competition_id)
            .join(Submission, Submission.agent_id == Agent.id)
            .where(Submission.status.in_(SELECTABLE), Agent.competition_id.is_not(None))
            .group_by(Agent.competition_id)
            .having(func.count(func.distinct(Agent.id)) >= 2)
        )
    )


def _group_size(game: str) -> int:
    """How many agents a ladder match of ``game`` seats: the game's usual number (two for a
    game no longer installed, whose matches then fail as any of its matches would)."""
    try:
        return get_game(game).players
    except UnknownGameError:
        return 2


def _count(session: Session, *conditions: ColumnElement[bool]) -> int:
    return int(session.scalar(select(func.count()).select_from(Match).where(*conditions)) or 0)


def _candidates(
    session: Session, competition_id: str, only: set[str] | None
) -> dict[str, Candidate]:
    """Every active submission of the competition (or, given ``only``, those of them that
    are selectable) with its rating and its recent ladder load."""
    chosen = (
        Submission.status == SubmissionStatus.ACTIVE.value
        if only is None
        else and_(Submission.id.in_(list(only)), Submission.status.in_(SELECTABLE))
    )
    rows = session.execute(
        # A team's agents share its turn, as one user's did before teams.
        select(Submission.id, Agent.id, func.coalesce(Agent.team_id, Agent.owner_id), Rating)
        .join(Agent, Agent.id == Submission.agent_id)
        .outerjoin(Rating, Rating.submission_id == Submission.id)
        .where(Agent.competition_id == competition_id, chosen)
    ).all()
    recent = _per_submission(
        session, competition_id, Match.created_at > utcnow() - RECENT, Match.status.in_(COUNTED)
    )
    # Ranked matches not played yet count towards a submission's placement games.
    pending = _per_submission(session, competition_id, Match.status.in_(IN_FLIGHT))
    return {
        sid: Candidate(
            submission_id=sid,
            agent_id=agent,
            owner_id=owner,
            mu=rating.mu if rating else DEFAULT_MU,
            sigma=rating.sigma if rating else DEFAULT_SIGMA,
            games=(rating.games if rating else 0) + pending.get(sid, 0),
            recent_games=recent.get(sid, 0),
            last_match_at=rating.last_match_at if rating else None,
        )
        for sid, agent, owner, rating in rows
    }


def _per_submission(
    session: Session, competition_id: str, *conditions: ColumnElement[bool]
) -> dict[str, int]:
    """How many ranked matches of the competition meeting ``conditions`` each submission
    has."""
    rows = session.execute(
        select(MatchPlayer.submission_id, func.count())
        .join(Match, Match.id == MatchPlayer.match_id)
        .where(Match.ranked.is_(True), Match.competition_id == competition_id, *conditions)
        .group_by(MatchPlayer.submission_id)
    ).all()
    return {submission_id: int(count) for submission_id, count in rows}


def _seat(session: Session, submission_id: str) -> tuple[Agent, Submission]:
    submission = session.get(Submission, submission_id)
    assert submission is not None
    return submission.agent, submission
