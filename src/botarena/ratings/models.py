"""A submission's rating and its record in ranked matches."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Float, ForeignKey, Index, Integer, String
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
    # Kept without a foreign key and nullable in the schema (SQLite can neither add nor drop a
    # referencing or NOT NULL column in place, and copying this table would cascade); every
    # row written since competitions exist has one (the migration filled the older ones).
    competition_id: Mapped[str] = mapped_column(String(32), index=True, nullable=True)
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


class RatingChange(Base):
    """One player's rating before and after one finished ranked match: the history behind
    the current :class:`Rating`, written by the same update (live and by ``recompute``)."""

    __tablename__ = "rating_changes"
    __table_args__ = (
        Index("ix_rating_changes_agent_id_at", "agent_id", "at"),
        Index("ix_rating_changes_game_at", "game", "at"),
        Index("ix_rating_changes_competition_id_at", "competition_id", "at"),
        Index("ix_rating_changes_submission_id_at", "submission_id", "at"),
    )

    match_id: Mapped[str] = mapped_column(
        ForeignKey("matches.id", ondelete="CASCADE"), primary_key=True
    )
    player: Mapped[int] = mapped_column(Integer, primary_key=True)
    submission_id: Mapped[str] = mapped_column(ForeignKey("submissions.id", ondelete="CASCADE"))
    agent_id: Mapped[str] = mapped_column(ForeignKey("agents.id", ondelete="CASCADE"))
    game: Mapped[str] = mapped_column(String(64))
    # Kept without a foreign key and nullable in the schema (SQLite can neither add nor drop a
    # referencing or NOT NULL column in place, and copying this table would cascade); every
    # row written since competitions exist has one (the migration filled the older ones).
    competition_id: Mapped[str] = mapped_column(String(32), nullable=True)
    mu_before: Mapped[float] = mapped_column(Float)
    sigma_before: Mapped[float] = mapped_column(Float)
    mu_after: Mapped[float] = mapped_column(Float)
    sigma_after: Mapped[float] = mapped_column(Float)
    at: Mapped[datetime]

    @property
    def score_before(self) -> float:
        return self.mu_before - 3 * self.sigma_before

    @property
    def score_after(self) -> float:
        return self.mu_after - 3 * self.sigma_after
