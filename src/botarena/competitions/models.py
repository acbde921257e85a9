"""A competition, the frame that agents, matches, ratings and tournaments belong to.

Every game has a default competition (made by the migration for what existed before
competitions, and on first use for a game after that): always open, no limits, public. An
admin creates others, with dates, limits and a final evaluation.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Boolean, Float, ForeignKey, Index, Integer, String, Text, false, text
from sqlalchemy.orm import Mapped, mapped_column

from botarena.clock import utcnow
from botarena.db.base import Base

PUBLIC = "public"
INVITE_ONLY = "invite"


class Competition(Base):
    """One competition of one game."""

    __tablename__ = "competitions"
    __table_args__ = (
        # One default competition per game, kept by the database itself.
        Index(
            "uq_competitions_default_game",
            "game",
            unique=True,
            sqlite_where=text("is_default"),
            postgresql_where=text("is_default"),
        ),
    )

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    # In addresses (/competitions/{slug}); unique regardless of case.
    slug: Mapped[str] = mapped_column(String(64), unique=True)
    game: Mapped[str] = mapped_column(String(64), index=True)
    # The game's configuration for every match of the competition (JSON object).
    configuration: Mapped[str] = mapped_column(Text, default="{}")
    title: Mapped[str] = mapped_column(String(200))
    description: Mapped[str] = mapped_column(Text, default="")  # Markdown
    is_default: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    visibility: Mapped[str] = mapped_column(String(16), default=PUBLIC)
    # Only a hash of an invite-only competition's join code is kept.
    join_code_hash: Mapped[str | None] = mapped_column(String(128))
    # The dates; none set means always open (the default competitions).
    opens_at: Mapped[datetime | None]
    deadline_at: Mapped[datetime | None]
    final_ends_at: Mapped[datetime | None]
    # Limits: None means no limit.
    daily_submission_limit: Mapped[int | None] = mapped_column(Integer)
    final_submissions_per_team: Mapped[int] = mapped_column(Integer, default=2)
    max_team_size: Mapped[int | None] = mapped_column(Integer)
    team_merges: Mapped[bool] = mapped_column(Boolean, default=True)
    # The final evaluation: when an admin started it, how many rounds, the tournament that
    # plays it; frozen_at once the final standings are stored (or an admin froze it).
    final_started_at: Mapped[datetime | None]
    final_rounds: Mapped[int | None] = mapped_column(Integer)
    final_tournament_id: Mapped[str | None] = mapped_column(String(32))
    frozen_at: Mapped[datetime | None]
    # The last phase its members were told of (phase changes are announced once each).
    announced_phase: Mapped[str | None] = mapped_column(String(16))
    created_by: Mapped[str | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)
    row_version: Mapped[int] = mapped_column(Integer, default=1)

    __mapper_args__ = {"version_id_col": row_version}  # noqa: RUF012 - read by SQLAlchemy


class FinalSelection(Base):
    """A submission a team chose for the final evaluation (at most the competition's
    ``final_submissions_per_team`` per team; none chosen means its newest active ones)."""

    __tablename__ = "final_selections"

    competition_id: Mapped[str] = mapped_column(
        ForeignKey("competitions.id", ondelete="CASCADE"), primary_key=True
    )
    submission_id: Mapped[str] = mapped_column(
        ForeignKey("submissions.id", ondelete="CASCADE"), primary_key=True
    )
    team_id: Mapped[str] = mapped_column(ForeignKey("teams.id", ondelete="CASCADE"), index=True)
    selected_at: Mapped[datetime] = mapped_column(default=utcnow)


class FinalStanding(Base):
    """One row of a frozen competition's final leaderboard, stored once when it froze."""

    __tablename__ = "final_standings"

    competition_id: Mapped[str] = mapped_column(
        ForeignKey("competitions.id", ondelete="CASCADE"), primary_key=True
    )
    submission_id: Mapped[str] = mapped_column(String(32), primary_key=True)
    rank: Mapped[int] = mapped_column(Integer)
    agent_id: Mapped[str] = mapped_column(String(32))
    agent_name: Mapped[str] = mapped_column(String(64))
    team_id: Mapped[str | None] = mapped_column(String(32))
    team_name: Mapped[str | None] = mapped_column(String(64))
    version: Mapped[int] = mapped_column(Integer)
    mu: Mapped[float] = mapped_column(Float)
    sigma: Mapped[float] = mapped_column(Float)
    games: Mapped[int] = mapped_column(Integer)
    wins: Mapped[int] = mapped_column(Integer)
    losses: Mapped[int] = mapped_column(Integer)
    draws: Mapped[int] = mapped_column(Integer)
