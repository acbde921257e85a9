"""The rating book: ratings updated match by match, in the order matches finished.

Only ``finished`` ranked matches count; ``error`` and ``cancelled`` never reach here. A
submission's rating is created at its first ranked match: from the mu of the agent's newest
earlier version that has one (sigma reset), else from the model's defaults. Applying the same
matches in the same order gives the same numbers to the last bit, which is what
:func:`recompute` relies on. Each update also leaves one :class:`RatingChange` per player (before
and after), so the history is written by the same step live and on a recompute.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from openskill.models import PlackettLuce
from sqlalchemy import delete, insert, select
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

from botarena.agents.models import Agent, Submission
from botarena.games.base import placements
from botarena.matches.models import Match, MatchPlayer
from botarena.matches.status import MatchState
from botarena.ratings.models import Rating, RatingChange

MODEL = PlackettLuce()
DEFAULT_MU = MODEL.mu
DEFAULT_SIGMA = MODEL.sigma


class RatingBook:
    """Reads and writes ratings in one session; the caller commits."""

    def __init__(self, session: Session) -> None:
        self.session = session

    def hold(self, submission_ids: Sequence[str], game: str) -> list[Rating]:
        """The ratings of ``submission_ids`` (in that order), created where missing, locked
        for an update. Taking this lock before a match is stamped finished keeps updates in
        that order. Rows are locked in one global order (by id), so two recordings never wait
        for each other crosswise; a missing row is inserted unless another recording has
        just done so, in which case this one waits for it and takes its row as it left it."""
        held: dict[str, Rating] = {}
        for submission_id in sorted(set(submission_ids)):
            rating = self.session.get(Rating, submission_id, with_for_update=True)
            if rating is None:
                self._insert_first(submission_id, game)
                rating = self.session.get(
                    Rating, submission_id, with_for_update=True, populate_existing=True
                )
                assert rating is not None
            held[submission_id] = rating
        return [held[submission_id] for submission_id in submission_ids]

    def apply(self, match: Match, ratings: Sequence[Rating], at: datetime) -> None:
        """Update the held ratings (one per seat) with a finished match's result, and record
        the change."""
        places = match_places(match.winner, match.scores, len(ratings))
        changes = update(ratings, places, at, match.id)
        self.session.flush()
        self.session.execute(insert(RatingChange), changes)

    def _insert_first(self, submission_id: str, game: str) -> None:
        submission = self.session.get(Submission, submission_id)
        assert submission is not None
        previous = self.session.scalar(
            select(Rating)
            .join(Submission, Submission.id == Rating.submission_id)
            .where(
                Submission.agent_id == submission.agent_id, Submission.version < submission.version
            )
            .order_by(Submission.version.desc())
            .limit(1)
        )
        first = _new_rating(
            submission_id, submission.agent_id, game, submission.agent.competition_id, previous
        )
        values = {
            column.key: getattr(first, column.key)
            for column in Rating.__table__.columns
            if getattr(first, column.key) is not None
        }
        dialect = self.session.get_bind().dialect.name
        insert = postgresql_insert if dialect == "postgresql" else sqlite_insert
        self.session.execute(
            insert(Rating).values(values).on_conflict_do_nothing(index_elements=["submission_id"])
        )


def match_places(winner: int | None, scores: str | None, seats: int) -> list[int]:
    """Each seat's place in a finished match, from its recorded winner and scores (JSON)."""
    return placements(winner, json.loads(scores) if scores else None, seats)


def update(
    ratings: Sequence[Rating], places: Sequence[int], at: datetime, match_id: str
) -> list[dict[str, Any]]:
    """The one rating update, used live and by :func:`recompute` alike: changes the ratings
    (in seat order) in place by the seats' places (1 the best, equal for a tie; Plackett-Luce
    takes the full order of any number of seats) and returns each player's change as a
    ``rating_changes`` row, for the caller to insert (plain rows: a recompute writes hundreds
    of thousands). A seat counts a win when it alone is first, a draw when it shares first
    place, and a loss otherwise: with two seats, exactly the match's winner."""
    ranks = [float(place) for place in places]
    before = [MODEL.rating(mu=r.mu, sigma=r.sigma) for r in ratings]
    after = MODEL.rate([[rating] for rating in before], ranks=ranks)
    changes = []
    for player, (rating, team) in enumerate(zip(ratings, after, strict=True)):
        mu_before, sigma_before = rating.mu, rating.sigma
        rating.mu = float(team[0].mu)
        rating.sigma = float(team[0].sigma)
        rating.games += 1
        if places[player] != 1:
            rating.losses += 1
        elif places.count(1) > 1:
            rating.draws += 1
        else:
            rating.wins += 1
        rating.last_match_at = at
        rating.updated_at = at
        changes.append(
            {
                "match_id": match_id,
                "player": player,
                "submission_id": rating.submission_id,
                "agent_id": rating.agent_id,
                "game": rating.game,
                "competition_id": rating.competition_id,
                "mu_before": mu_before,
                "sigma_before": sigma_before,
                "mu_after": rating.mu,
                "sigma_after": rating.sigma,
                "at": at,
            }
        )
    return changes


def recompute(session: Session) -> int:
    """Rebuild every rating and the whole rating history from the finished ranked matches, in
    the order they finished; returns how many matches were applied. Computed in memory,
    written at once; the caller commits."""
    rows = session.execute(
        select(Match.id, Match.game, Match.winner, Match.scores, Match.finished_at)
        .where(Match.ranked.is_(True), Match.status == MatchState.FINISHED.value)
        .order_by(Match.finished_at.asc(), Match.id.asc())
    ).all()
    seats: dict[str, list[str]] = {}
    for match_id, _player, submission_id in session.execute(
        select(MatchPlayer.match_id, MatchPlayer.player, MatchPlayer.submission_id)
        .join(Match, Match.id == MatchPlayer.match_id)
        .where(Match.ranked.is_(True), Match.status == MatchState.FINISHED.value)
        .order_by(MatchPlayer.match_id, MatchPlayer.player)
    ):
        seats.setdefault(match_id, []).append(submission_id)
    versions = {
        sid: (agent, version)
        for sid, agent, version in session.execute(
            select(Submission.id, Submission.agent_id, Submission.version)
        )
    }
    competition_of = {
        agent_id: competition_id
        for agent_id, competition_id in session.execute(select(Agent.id, Agent.competition_id))
    }
    ratings: dict[str, Rating] = {}
    by_agent: dict[str, dict[int, Rating]] = {}
    changes: list[dict[str, Any]] = []
    for match_id, game, winner, scores, finished_at in rows:
        assert finished_at is not None  # every finished match has its time
        pair = []
        for submission_id in seats[match_id]:
            rating = ratings.get(submission_id)
            if rating is None:
                agent, version = versions[submission_id]
                earlier = [v for v in by_agent.get(agent, {}) if v < version]
                previous = by_agent[agent][max(earlier)] if earlier else None
                rating = _new_rating(
                    submission_id, agent, game, competition_of.get(agent), previous
                )
                ratings[submission_id] = rating
                by_agent.setdefault(agent, {})[version] = rating
            pair.append(rating)
        places = match_places(winner, scores, len(pair))
        changes.extend(update(pair, places, finished_at, match_id))
    session.execute(delete(RatingChange))
    session.execute(delete(Rating))
    session.add_all(ratings.values())
    session.flush()
    for start in range(0, len(changes), 10_000):
        session.execute(insert(RatingChange), changes[start : start + 10_000])
    return len(rows)


def _new_rating(
    submission_id: str,
    agent_id: str,
    game: str,
    competition_id: str | None,
    previous: Rating | None,
) -> Rating:
    """A first rating: the mu of the agent's previous version, with sigma reset."""
    return Rating(
        submission_id=submission_id,
        agent_id=agent_id,
        game=game,
        competition_id=competition_id,
        mu=previous.mu if previous is not None else DEFAULT_MU,
        sigma=DEFAULT_SIGMA,
        games=0,
        wins=0,
        losses=0,
        draws=0,
    )
