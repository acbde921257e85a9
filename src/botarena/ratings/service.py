"""The leaderboard and head-to-head records, read from ratings and finished matches."""

from __future__ import annotations

import json
from collections.abc import Collection, Sequence
from dataclasses import dataclass, replace
from datetime import datetime

from sqlalchemy import ColumnElement, select
from sqlalchemy.orm import Session

from botarena.accounts.models import User
from botarena.agents.models import Agent, Submission
from botarena.agents.service import AgentService
from botarena.agents.status import SubmissionStatus
from botarena.clock import utcnow
from botarena.competitions.models import Competition
from botarena.competitions.repository import CompetitionRepository
from botarena.errors import invalid, not_found
from botarena.games.base import placements
from botarena.games.registry import UnknownGameError, get_game
from botarena.matches.models import Match, MatchPlayer
from botarena.matches.status import MatchState
from botarena.ratings.book import DEFAULT_MU, DEFAULT_SIGMA
from botarena.ratings.history import (
    Listed,
    PlayerChange,
    Point,
    RankChange,
    agent_history,
    match_changes,
    rank_changes,
)
from botarena.ratings.models import Rating
from botarena.teams.models import Team


@dataclass(frozen=True)
class ListedOwner:
    id: str
    username: str
    username_key: str


@dataclass(frozen=True)
class ListedTeam:
    id: str
    name: str


@dataclass(frozen=True)
class ListedAgent:
    """The agent of a leaderboard row as the board shows it: read as plain columns, because a
    board is read whole (a thousand ORM rows and their owners cost more than the page)."""

    id: str
    name: str
    name_key: str
    game: str
    owner_id: str
    owner: ListedOwner
    team: ListedTeam | None = None  # the team that owns it (none only for an unmigrated row)


@dataclass(frozen=True)
class ListedSubmission:
    id: str
    version: int


@dataclass(frozen=True)
class Standing:
    """One row of the leaderboard: an active submission and its rating."""

    rank: int
    agent: ListedAgent
    submission: ListedSubmission
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
class Record:
    """An agent's results against one opponent, over finished matches."""

    opponent: Agent
    games: int
    wins: int
    losses: int
    draws: int


class RatingService:
    """Reads of the rating tables; nothing here writes."""

    def __init__(self, session: Session) -> None:
        self.session = session

    def leaderboard(
        self,
        game: str,
        competition_id: str | None = None,
        only: Collection[str] | None = None,
    ) -> list[Standing]:
        """Every active submission of ``game`` in the competition (default: the game's
        default one), best first (mu - 3 sigma; unrated ones at the model's start), ties
        broken by more games, then by agent name. ``only``: these submissions instead of the
        active ones (after a deadline, those selected for the final)."""
        try:
            get_game(game)
        except UnknownGameError as exc:
            raise invalid("game", exc.message) from exc
        where: ColumnElement[bool] = (
            Agent.competition_id.in_(
                select(Competition.id).where(Competition.game == game, Competition.is_default)
            )
            if competition_id is None
            else Agent.competition_id == competition_id
        )
        chosen = (
            Submission.status == SubmissionStatus.ACTIVE.value
            if only is None
            else Submission.id.in_(list(only))
        )
        rows = self.session.execute(
            select(
                Submission.id,
                Submission.version,
                Agent.id,
                Agent.name,
                Agent.name_key,
                User.id,
                User.username,
                User.username_key,
                Rating.mu,
                Rating.sigma,
                Rating.games,
                Rating.wins,
                Rating.losses,
                Rating.draws,
                Rating.last_match_at,
                Team.id,
                Team.name,
            )
            .join(Agent, Agent.id == Submission.agent_id)
            .join(User, User.id == Agent.owner_id)
            .outerjoin(Team, Team.id == Agent.team_id)
            .outerjoin(Rating, Rating.submission_id == Submission.id)
            .where(Agent.game == game, chosen, where)
        ).all()
        unsorted = [
            Standing(
                rank=0,
                agent=ListedAgent(
                    agent_id,
                    name,
                    name_key,
                    game,
                    owner_id,
                    ListedOwner(owner_id, user, user_key),
                    ListedTeam(team_id, team_name) if team_id is not None else None,
                ),
                submission=ListedSubmission(submission_id, version),
                mu=DEFAULT_MU if mu is None else mu,
                sigma=DEFAULT_SIGMA if sigma is None else sigma,
                games=games or 0,
                wins=wins or 0,
                losses=losses or 0,
                draws=draws or 0,
                last_match_at=last_match_at,
            )
            for (
                submission_id,
                version,
                agent_id,
                name,
                name_key,
                owner_id,
                user,
                user_key,
                mu,
                sigma,
                games,
                wins,
                losses,
                draws,
                last_match_at,
                team_id,
                team_name,
            ) in rows
        ]
        unsorted.sort(key=lambda s: (-s.score, -s.games, s.agent.name_key))
        return [replace(s, rank=index) for index, s in enumerate(unsorted, start=1)]

    def default_competition_id(self, game: str) -> str | None:
        """The id of the game's default competition (what its leaderboard shows), if made."""
        found = CompetitionRepository(self.session).find_default(game)
        return found.id if found is not None else None

    def head_to_head(self, agent_id: str) -> list[Record]:
        """The agent's record against each opponent it met in finished matches: a win where
        it placed above the opponent, a loss below, a draw level (with two seats, exactly
        the match's winner)."""
        agent = AgentService(self.session).get(agent_id)
        mine = (
            select(MatchPlayer.match_id, MatchPlayer.player)
            .where(MatchPlayer.agent_id == agent.id)
            .subquery()
        )
        rows = self.session.execute(
            select(
                mine.c.player, Match.winner, Match.scores, MatchPlayer.player, MatchPlayer.agent_id
            )
            .join(Match, Match.id == mine.c.match_id)
            .join(MatchPlayer, MatchPlayer.match_id == Match.id)
            .where(Match.status == MatchState.FINISHED.value, MatchPlayer.player != mine.c.player)
        ).all()
        tally: dict[str, list[int]] = {}
        for player, winner, scores, seat, opponent in rows:
            counts = tally.setdefault(opponent, [0, 0, 0])
            listed = json.loads(scores) if scores else None
            places = placements(winner, listed, len(listed) if listed else 2)
            me, them = places[player], places[seat]
            counts[0 if me < them else 2 if me == them else 1] += 1
        opponents = {
            a.id: a for a in self.session.scalars(select(Agent).where(Agent.id.in_(tally)))
        }
        records = [Record(opponents[o], sum(c), c[0], c[1], c[2]) for o, c in tally.items()]
        return sorted(records, key=lambda r: (-r.games, r.opponent.name_key))

    def history(self, agent_id: str) -> list[Point]:
        """The agent's rating after each of its ranked matches, across its submissions,
        oldest first; 404 for an unknown agent."""
        agent = AgentService(self.session).get(agent_id)
        return agent_history(self.session, agent.id)

    def changes_for_match(self, match_id: str) -> list[PlayerChange]:
        """Each player's rating change in a match, by seat (empty unless it was a finished
        ranked one); 404 for an unknown match."""
        match = self.session.get(Match, match_id)
        if match is None:
            raise not_found(f"Match {match_id} not found")
        return match_changes(self.session, match.id)

    def rank_changes(
        self, game: str, standings: Sequence[Standing], now: datetime | None = None
    ) -> dict[str, RankChange]:
        """Each standing of ``game`` (the whole board as :meth:`leaderboard` gives it): its
        rank change since 24 hours before ``now`` (default: the clock), by submission id;
        see :func:`botarena.ratings.history.rank_changes` for exactly what is compared."""
        rows = [
            Listed(s.submission.id, s.rank, s.agent.name_key, s.mu, s.sigma, s.games)
            for s in standings
        ]
        return rank_changes(self.session, game, rows, now if now is not None else utcnow())
