"""Tournaments, their frozen list of entrants, and each game of each round.

A tournament game is one seat pairing in one round; it is played by a match (an unranked
one, so that ladder ratings never move). When that match ends ``error`` the game gets a new
match; when the platform cannot play it after every replay, the game is void.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Boolean, Float, ForeignKey, Integer, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from botarena.clock import utcnow
from botarena.db.base import Base

RUNNING = "running"
FINISHED = "finished"
CANCELLED = "cancelled"


class Tournament(Base):
    """A tournament of one game in one format, and where it stands."""

    __tablename__ = "tournaments"

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    game: Mapped[str] = mapped_column(String(64), index=True)
    # Kept without a foreign key and nullable in the schema (SQLite can neither add nor drop a
    # referencing or NOT NULL column in place, and copying this table would cascade); every
    # row written since competitions exist has one (the migration filled the older ones).
    competition_id: Mapped[str] = mapped_column(String(32), index=True, nullable=True)
    format: Mapped[str] = mapped_column(String(32))
    status: Mapped[str] = mapped_column(String(16), default=RUNNING, index=True)
    seed: Mapped[int] = mapped_column(Integer)
    rounds: Mapped[int] = mapped_column(Integer)  # planned
    games_per_pairing: Mapped[int] = mapped_column(Integer, default=1)
    current_round: Mapped[int] = mapped_column(Integer, default=0)
    created_by: Mapped[str | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    finished_at: Mapped[datetime | None]
    row_version: Mapped[int] = mapped_column(Integer, default=1)

    entrants: Mapped[list[TournamentEntrant]] = relationship(
        order_by="TournamentEntrant.seed", cascade="all, delete-orphan"
    )
    games: Mapped[list[TournamentGame]] = relationship(
        order_by=lambda: [TournamentGame.round, TournamentGame.table, TournamentGame.game_index],
        cascade="all, delete-orphan",
    )

    __mapper_args__ = {"version_id_col": row_version}  # noqa: RUF012 - read by SQLAlchemy


class TournamentEntrant(Base):
    """A submission entered, with its seed (1 is the best, from the leaderboard at the start).

    The ids are kept without foreign keys: an entrant whose agent is deleted stays in the
    standings (its games to come are void), so the schedule of the others never shifts.
    """

    __tablename__ = "tournament_entrants"

    tournament_id: Mapped[str] = mapped_column(
        ForeignKey("tournaments.id", ondelete="CASCADE"), primary_key=True
    )
    submission_id: Mapped[str] = mapped_column(String(32), primary_key=True)
    agent_id: Mapped[str] = mapped_column(String(32))
    seed: Mapped[int] = mapped_column(Integer)


class TournamentGame(Base):
    """One game of a pairing (or a bye: no ``b``) and the match that plays it."""

    __tablename__ = "tournament_games"

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    tournament_id: Mapped[str] = mapped_column(
        ForeignKey("tournaments.id", ondelete="CASCADE"), index=True
    )
    round: Mapped[int] = mapped_column(Integer)
    table: Mapped[int] = mapped_column(Integer)
    game_index: Mapped[int] = mapped_column(Integer, default=0)
    a: Mapped[str] = mapped_column(String(32))  # submission ids
    b: Mapped[str | None] = mapped_column(String(32))
    a_first: Mapped[bool] = mapped_column(Boolean, default=True)
    match_id: Mapped[str | None] = mapped_column(
        ForeignKey("matches.id", ondelete="SET NULL"), index=True
    )
    replays: Mapped[int] = mapped_column(Integer, default=0)
    score_a: Mapped[float | None] = mapped_column(Float)
    void: Mapped[bool] = mapped_column(Boolean, default=False)
    decided_at: Mapped[datetime | None]

    @property
    def is_bye(self) -> bool:
        return self.b is None

    @property
    def decided(self) -> bool:
        return self.is_bye or self.void or self.score_a is not None
