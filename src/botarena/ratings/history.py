"""Reads of the rating history: an agent's points over time, a match's changes, and each
listed agent's rank change since yesterday."""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import datetime, timedelta

from sqlalchemy import and_, select
from sqlalchemy.orm import Session, aliased

from botarena.agents.models import Agent, Submission
from botarena.games.base import placements
from botarena.matches.models import Match
from botarena.ratings.book import DEFAULT_MU, DEFAULT_SIGMA
from botarena.ratings.models import RatingChange

RANK_CHANGE_WINDOW = timedelta(hours=24)


def score(mu: float, sigma: float) -> float:
    """What the leaderboard orders by: mu - 3 sigma."""
    return mu - 3 * sigma


@dataclass(frozen=True)
class Point:
    """One ranked match of an agent: its rating before and after, and against whom."""

    at: datetime
    match_id: str
    submission_id: str
    version: int
    player: int
    result: str  # "win", "loss" or "draw"
    opponent_id: str | None  # None: the agent played itself
    opponent_name: str | None
    mu_before: float
    sigma_before: float
    mu_after: float
    sigma_after: float

    @property
    def score_before(self) -> float:
        return score(self.mu_before, self.sigma_before)

    @property
    def score_after(self) -> float:
        return score(self.mu_after, self.sigma_after)


@dataclass(frozen=True)
class PlayerChange:
    """One player's rating change in one match."""

    player: int
    agent_id: str
    submission_id: str
    mu_before: float
    sigma_before: float
    mu_after: float
    sigma_after: float

    @property
    def score_before(self) -> float:
        return score(self.mu_before, self.sigma_before)

    @property
    def score_after(self) -> float:
        return score(self.mu_after, self.sigma_after)

    @property
    def delta(self) -> float:
        return self.score_after - self.score_before


@dataclass(frozen=True)
class RankChange:
    """A leaderboard row's rank now against its rank 24 hours earlier. ``rose`` is positive
    for places gained, negative for places lost; None when the row is new."""

    now: int
    then: int | None

    @property
    def new(self) -> bool:
        return self.then is None

    @property
    def rose(self) -> int | None:
        return None if self.then is None else self.then - self.now


def agent_history(session: Session, agent_id: str) -> list[Point]:
    """Every rating change of ``agent_id`` across its submissions, oldest first (in the
    order the updates were applied), with the version and the opponent (in a free-for-all,
    the first other seat, its name saying how many more there were). One query."""
    other = aliased(RatingChange)
    rows = session.execute(
        select(
            RatingChange, Submission.version, Match.winner, Match.scores, other.agent_id, Agent.name
        )
        .join(Submission, Submission.id == RatingChange.submission_id)
        .join(Match, Match.id == RatingChange.match_id)
        .outerjoin(
            other,
            and_(other.match_id == RatingChange.match_id, other.player != RatingChange.player),
        )
        .outerjoin(Agent, Agent.id == other.agent_id)
        .where(RatingChange.agent_id == agent_id)
        .order_by(RatingChange.at, RatingChange.match_id, RatingChange.player, other.player)
    ).all()
    points: list[Point] = []
    # (match, seat) -> the first other seat's name, and how many other seats there were.
    others: dict[tuple[str, int], tuple[str | None, int]] = {}
    for change, version, winner, scores, opponent_id, opponent_name in rows:
        key = (change.match_id, change.player)
        if key in others:
            first, more = others[key]
            others[key] = (first, more + 1)
            points[-1] = replace(points[-1], opponent_name=f"{first} and {more + 1} more")
            continue
        others[key] = (opponent_name, 0)
        listed = json.loads(scores) if scores else None
        places = placements(winner, listed, len(listed) if listed else 2)
        mine = opponent_id != agent_id
        points.append(
            Point(
                at=change.at,
                match_id=change.match_id,
                submission_id=change.submission_id,
                version=version,
                player=change.player,
                result=_result(places, change.player),
                opponent_id=opponent_id if mine else None,
                opponent_name=opponent_name if mine else None,
                mu_before=change.mu_before,
                sigma_before=change.sigma_before,
                mu_after=change.mu_after,
                sigma_after=change.sigma_after,
            )
        )
    return points


def match_changes(session: Session, match_id: str) -> list[PlayerChange]:
    """Each player's change in ``match_id``, by seat; empty for a match that changed no
    rating (a scrimmage, or one not finished)."""
    changes = session.scalars(
        select(RatingChange).where(RatingChange.match_id == match_id).order_by(RatingChange.player)
    )
    return [
        PlayerChange(
            player=c.player,
            agent_id=c.agent_id,
            submission_id=c.submission_id,
            mu_before=c.mu_before,
            sigma_before=c.sigma_before,
            mu_after=c.mu_after,
            sigma_after=c.sigma_after,
        )
        for c in changes
    ]


@dataclass(frozen=True)
class Listed:
    """What a rank change needs of one leaderboard row (its rating now)."""

    submission_id: str
    rank: int
    name_key: str
    mu: float
    sigma: float
    games: int


def rank_changes(
    session: Session, game: str, rows: Sequence[Listed], now: datetime
) -> dict[str, RankChange]:
    """Each listed row's rank now against its rank on the board as it stood at
    ``now - 24 h`` (the cutoff), by submission id.

    The board then holds the same rows (the submissions listed now, nothing else), each
    rated as that same submission stood at the cutoff: the ``mu_after``, ``sigma_after`` of
    its last change before the cutoff, and as games the number of its changes before the
    cutoff; ordered as the leaderboard is: score (mu - 3 sigma) high to low, then more
    games, then the agent's name. A row whose submission had no rated match before the
    cutoff is *new* (a new agent, or a new version whose rating started over): it has no
    change to show, and sits on the board then at the model's start with no games, as
    unrated rows do now.

    Read backwards from now, in one query over the last 24 hours' changes of the game only:
    the changes chain (each ``*_before`` is the previous ``*_after``) and a rating counts one
    game per change, so the last change before the cutoff is the ``*_before`` of the first
    change since, or the rating now when there is none since; and the games then are the
    games now less the changes since."""
    cutoff = now - RANK_CHANGE_WINDOW
    since: dict[str, list[tuple[float, float]]] = {}
    for sid, mu, sigma in session.execute(
        select(RatingChange.submission_id, RatingChange.mu_before, RatingChange.sigma_before)
        .where(RatingChange.game == game, RatingChange.at >= cutoff)
        .order_by(RatingChange.at, RatingChange.match_id, RatingChange.player)
    ):
        since.setdefault(sid, []).append((mu, sigma))
    then: dict[str, tuple[float, float, int]] = {}  # submission -> mu, sigma, games
    for row in rows:
        recent = since.get(row.submission_id, [])
        games = row.games - len(recent)
        if games > 0:
            mu, sigma = recent[0] if recent else (row.mu, row.sigma)
            then[row.submission_id] = (mu, sigma, games)
    start = (DEFAULT_MU, DEFAULT_SIGMA, 0)
    past = sorted(
        rows,
        key=lambda r: (
            -score(*then.get(r.submission_id, start)[:2]),
            -then.get(r.submission_id, start)[2],
            r.name_key,
        ),
    )
    ranks_then = {row.submission_id: index for index, row in enumerate(past, start=1)}
    return {
        row.submission_id: RankChange(
            row.rank, ranks_then[row.submission_id] if row.submission_id in then else None
        )
        for row in rows
    }


def _result(places: Sequence[int], player: int) -> str:
    """As a rating counts it: a win alone in first place, a draw sharing it, else a loss."""
    if places[player] != 1:
        return "loss"
    return "draw" if places.count(1) > 1 else "win"
