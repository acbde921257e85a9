"""Request and response bodies of the matches API."""

from __future__ import annotations

import json
from datetime import datetime
from typing import Annotated, Any

from pydantic import Field

from botarena.api.schema import JSON_NUMBER, ApiModel
from botarena.matches.models import Match


class MatchCreate(ApiModel):
    """A match to play: two agents, and optionally the game, the seed and config overrides."""

    agent1_id: str = Field(min_length=1, max_length=32)
    agent2_id: str = Field(min_length=1, max_length=32)
    game: str | None = Field(default=None, min_length=1, max_length=64)
    seed: Annotated[int, Field(ge=0, le=2**31 - 1), JSON_NUMBER] | None = None
    config: dict[str, Any] | None = None
    ranked: bool = False  # admins only: a match that changes ratings


class MatchAgentOut(ApiModel):
    agent_id: str
    submission_id: str
    player: int
    outcome: str | None
    reason: str | None


class MatchStatusChange(ApiModel):
    status: str
    at: datetime


class MatchOut(ApiModel):
    """A match: who plays, where it stands, and how it ended."""

    id: str
    game: str
    competition_id: str | None
    status: str
    ranked: bool
    agents: list[MatchAgentOut]
    winner: int | None
    scores: list[float] | None
    queue_position: int | None
    attempts: int
    status_history: list[MatchStatusChange]
    duration_ms: int | None
    created_at: datetime

    @classmethod
    def of(cls, match: Match, queue_position: int | None = None) -> MatchOut:
        return cls(
            id=match.id,
            game=match.game,
            competition_id=match.competition_id,
            status=match.status,
            ranked=match.ranked,
            agents=[
                MatchAgentOut(
                    agent_id=p.agent_id,
                    submission_id=p.submission_id,
                    player=p.player,
                    outcome=p.outcome,
                    reason=p.reason,
                )
                for p in match.players
            ],
            winner=match.winner,
            scores=json.loads(match.scores) if match.scores else None,
            queue_position=queue_position,
            attempts=match.attempts,
            status_history=[
                MatchStatusChange(status=e.status, at=e.at) for e in match.status_events
            ],
            duration_ms=match.duration_ms,
            created_at=match.created_at,
        )
