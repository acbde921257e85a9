"""HTTP routes of the leaderboard and head-to-head records (public)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query

from botarena.api.deps import SessionDep
from botarena.ratings.schemas import (
    HeadToHead,
    HeadToHeadRow,
    Leaderboard,
    LeaderboardRow,
    MatchRatingChanges,
    RatingChangeRow,
    RatingHistory,
    RatingPoint,
)
from botarena.ratings.service import RatingService

router = APIRouter(tags=["ratings"])


@router.get("/leaderboard")
def leaderboard(
    session: SessionDep, game: Annotated[str, Query(min_length=1, max_length=64)]
) -> Leaderboard:
    """Every active submission of a game's default competition, best first by mu - 3 sigma
    (a competition's own board: ``/competitions/{id}/leaderboard``)."""
    service = RatingService(session)
    rows = service.leaderboard(game)
    return Leaderboard(
        game=game,
        competition_id=service.default_competition_id(game),
        items=[
            LeaderboardRow(
                rank=s.rank,
                agent_id=s.agent.id,
                agent_name=s.agent.name,
                owner_id=s.agent.owner_id,
                team_id=s.agent.team.id if s.agent.team else None,
                team_name=s.agent.team.name if s.agent.team else None,
                submission_id=s.submission.id,
                version=s.submission.version,
                mu=s.mu,
                sigma=s.sigma,
                score=s.score,
                games=s.games,
                wins=s.wins,
                losses=s.losses,
                draws=s.draws,
                last_match_at=s.last_match_at,
            )
            for s in rows
        ],
    )


@router.get("/agents/{agent_id}/head-to-head")
def head_to_head(agent_id: str, session: SessionDep) -> HeadToHead:
    """The agent's results against each opponent, over finished matches."""
    records = RatingService(session).head_to_head(agent_id)
    return HeadToHead(
        agent_id=agent_id,
        items=[
            HeadToHeadRow(
                opponent_id=r.opponent.id,
                opponent_name=r.opponent.name,
                games=r.games,
                wins=r.wins,
                losses=r.losses,
                draws=r.draws,
            )
            for r in records
        ],
    )


@router.get("/agents/{agent_id}/ratings")
def rating_history(agent_id: str, session: SessionDep) -> RatingHistory:
    """The agent's rating before and after each of its ranked matches, oldest first, across
    its versions."""
    points = RatingService(session).history(agent_id)
    return RatingHistory(
        agent_id=agent_id,
        items=[
            RatingPoint(
                match_id=p.match_id,
                at=p.at,
                submission_id=p.submission_id,
                version=p.version,
                player=p.player,
                result=p.result,
                opponent_id=p.opponent_id,
                opponent_name=p.opponent_name,
                mu_before=p.mu_before,
                sigma_before=p.sigma_before,
                score_before=p.score_before,
                mu_after=p.mu_after,
                sigma_after=p.sigma_after,
                score_after=p.score_after,
            )
            for p in points
        ],
    )


@router.get("/matches/{match_id}/rating-changes")
def match_rating_changes(match_id: str, session: SessionDep) -> MatchRatingChanges:
    """Each player's rating change in a match (none unless it was a finished ranked one)."""
    changes = RatingService(session).changes_for_match(match_id)
    return MatchRatingChanges(
        match_id=match_id,
        items=[
            RatingChangeRow(
                player=c.player,
                agent_id=c.agent_id,
                submission_id=c.submission_id,
                mu_before=c.mu_before,
                sigma_before=c.sigma_before,
                score_before=c.score_before,
                mu_after=c.mu_after,
                sigma_after=c.sigma_after,
                score_after=c.score_after,
                score_delta=c.delta,
            )
            for c in changes
        ],
    )
