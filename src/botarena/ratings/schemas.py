"""Response bodies of the leaderboard and head-to-head records."""

from __future__ import annotations

from datetime import datetime

from botarena.api.schema import ApiModel


class LeaderboardRow(ApiModel):
    rank: int
    agent_id: str
    agent_name: str
    owner_id: str
    team_id: str | None
    team_name: str | None
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
    competition_id: str | None  # the game's default competition
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


class RatingPoint(ApiModel):
    """An agent's rating before and after one ranked match."""

    match_id: str
    at: datetime
    submission_id: str
    version: int
    player: int
    result: str
    opponent_id: str | None
    opponent_name: str | None
    mu_before: float
    sigma_before: float
    score_before: float
    mu_after: float
    sigma_after: float
    score_after: float


class RatingHistory(ApiModel):
    agent_id: str
    items: list[RatingPoint]


class RatingChangeRow(ApiModel):
    player: int
    agent_id: str
    submission_id: str
    mu_before: float
    sigma_before: float
    score_before: float
    mu_after: float
    sigma_after: float
    score_after: float
    score_delta: float


class MatchRatingChanges(ApiModel):
    match_id: str
    items: list[RatingChangeRow]
