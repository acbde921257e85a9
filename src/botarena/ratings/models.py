"""A submission's rating and its record in ranked matches."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Float, ForeignKey, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from botarena.clock import utcnow
from botarena.db.base import Base


class Rating(Base):
    """mu and sigma of one submission (OpenSkill, Plackett-Luce), and its ranked games."""

    __tablename__ = "ratings"

    submission_id: Mapped[str] = mapped_column(
        ForeignKey("submissions.id", ondelete="CASCADE"), primary_key=True
    )
    agent_id: Mapped[str] = mapped_column(ForeignKey("agents.id", ondelete="CASCADE"), index=True)
    game: Mapped[str] = mapped_column(String(64), index=True)
    mu: Mapped[float] = mapped_column(Float)
    sigma: Mapped[float] = mapped_column(Float)
    games: Mapped[int] = mapped_column(Integer, default=0)
    wins: Mapped[int] = mapped_column(Integer, default=0)
    losses: Mapped[int] = mapped_column(Integer, default=0)
    draws: Mapped[int] = mapped_column(Integer, default=0)
    last_match_at: Mapped[datetime | None]
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)

    @property
    def score(self) -> float:
        """What the leaderboard orders by: mu - 3 sigma, a cautious estimate of skill."""
        return self.mu - 3 * self.sigma
