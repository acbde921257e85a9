"""HTTP routes of the leaderboard and head-to-head records (public)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query

from botarena.api.deps import SessionDep
from botarena.ratings.schemas import HeadToHead, HeadToHeadRow, Leaderboard, LeaderboardRow
from botarena.ratings.service import RatingService

router = APIRouter(tags=["ratings"])


@router.get("/leaderboard")
def leaderboard(
    session: SessionDep, game: Annotated[str, Query(min_length=1, max_length=64)]
) -> Leaderboard:
    """Every active submission of a game, best first by mu - 3 sigma."""
    rows = RatingService(session).leaderboard(game)
    return Leaderboard(
        game=game,
        items=[
            LeaderboardRow(
                rank=s.rank,
                agent_id=s.agent.id,
                agent_name=s.agent.name,
                owner_id=s.agent.owner_id,
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
