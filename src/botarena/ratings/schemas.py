"""Response bodies of the leaderboard and head-to-head records."""

from __future__ import annotations

from datetime import datetime

from botarena.api.schema import ApiModel


class LeaderboardRow(ApiModel):
    rank: int
    agent_id: str
    agent_name: str
    owner_id: str
    submission_id: str
    version: int
    mu: float
    sigma: float
    score: float
    games: int
    wins: int
    losses: int
    draws: int
    last_match_at: datetime | None


class Leaderboard(ApiModel):
    game: str
    items: list[LeaderboardRow]


class HeadToHeadRow(ApiModel):
    opponent_id: str
    opponent_name: str
    games: int
    wins: int
    losses: int
    draws: int


class HeadToHead(ApiModel):
    agent_id: str
    items: list[HeadToHeadRow]
