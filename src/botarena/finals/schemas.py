"""Request and response bodies of the final evaluation, selections and leaderboards."""

from __future__ import annotations

from typing import Annotated

from pydantic import Field

from botarena.api.schema import JSON_NUMBER, ApiModel
from botarena.ratings.schemas import LeaderboardRow


class FinalStart(ApiModel):
    """Start the final evaluation: each selected submission meets each other ``rounds``
    times in each seat."""

    rounds: Annotated[int, Field(ge=1, le=50), JSON_NUMBER] = 1


class SelectionIn(ApiModel):
    """A team's choice for the final (empty: back to the default, its newest active ones)."""

    submission_ids: list[str] = Field(max_length=100)


class SelectionOut(ApiModel):
    competition_id: str
    team_id: str
    submission_ids: list[str]  # what the team chose
    effective_submission_ids: list[str]  # what plays: the choice, or the default


class CompetitionBoard(ApiModel):
    competition_id: str
    game: str
    phase: str
    final: bool  # ratings from the final evaluation's matches only
    frozen: bool  # the stored final standings; nothing changes them
    items: list[LeaderboardRow]  # the game leaderboard's rows, as they stand here
