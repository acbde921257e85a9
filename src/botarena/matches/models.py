"""Matches, their players (two, or more for a free-for-all), and each match's status history.

A match's replay and its agents' logs are files under the data folder (see
:mod:`botarena.storage`); the rows hold the result and the job state (attempts, lease).
"""

from __future__ import annotations

import json
from datetime import datetime

from sqlalchemy import Boolean, ForeignKey, Index, Integer, String, Text, false, inspect
from sqlalchemy.orm import Mapped, mapped_column, object_session, relationship

from botarena.clock import utcnow
from botarena.db.base import Base
from botarena.games.base import placements
from botarena.matches.status import MatchState, check_match_transition


class Match(Base):
    """One game between submissions (one per seat), and the job that plays it."""

    __tablename__ = "matches"
    __table_args__ = (
        Index("ix_matches_status_queue", "status", "created_at"),
        # Lists read the newest first.
        Index("ix_matches_created_at_id", "created_at", "id"),
    )

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    game: Mapped[str] = mapped_column(String(64))
    # Kept without a foreign key and nullable in the schema (SQLite can neither add nor drop a
    # referencing or NOT NULL column in place, and copying this table would cascade); every
    # row written since competitions exist has one (the migration filled the older ones).
    competition_id: Mapped[str] = mapped_column(String(32), index=True, nullable=True)
    status: Mapped[str] = mapped_column(String(16), default=MatchState.QUEUED.value)
    seed: Mapped[int] = mapped_column(Integer)
    configuration: Mapped[str] = mapped_column(Text, default="{}")  # overrides, JSON
    # Ranked matches change ratings; scrimmages (the default) do not.
    ranked: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    created_by: Mapped[str | None] = mapped_column(ForeignKey("users.id"), index=True)
    # The id of the request that created it (X-Request-ID), on its log lines everywhere.
    request_id: Mapped[str | None] = mapped_column(String(64))
    winner: Mapped[int | None] = mapped_column(Integer)
    scores: Mapped[str | None] = mapped_column(Text)  # JSON list
    turns: Mapped[int | None] = mapped_column(Integer)
    duration_ms: Mapped[int | None] = mapped_column(Integer)
    error: Mapped[str | None] = mapped_column(Text)
    # The job: attempts so far, backoff, and who holds it until when.
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    not_before: Mapped[datetime | None]
    lease_owner: Mapped[str | None] = mapped_column(String(64))
    lease_until: Mapped[datetime | None]
    executor: Mapped[str | None] = mapped_column(String(255))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)
    finished_at: Mapped[datetime | None]
    row_version: Mapped[int] = mapped_column(Integer, default=1)

    players: Mapped[list[MatchPlayer]] = relationship(
        back_populates="match", order_by="MatchPlayer.player", cascade="all, delete-orphan"
    )
    status_events: Mapped[list[MatchStatusEvent]] = relationship(
        back_populates="match", order_by="MatchStatusEvent.id", cascade="all, delete-orphan"
    )

    __mapper_args__ = {"version_id_col": row_version}  # noqa: RUF012 - read by SQLAlchemy

    @property
    def state(self) -> MatchState:
        return MatchState(self.status)

    def move_to(
        self, new: MatchState, *, reason: str | None = None, at: datetime | None = None
    ) -> None:
        """Change status through the machine and record the change with its time."""
        check_match_transition(self.state, new)
        now = at or utcnow()
        self.status = new.value
        self.updated_at = now
        change = MatchStatusEvent(status=new.value, at=now, reason=reason)
        session = object_session(self)
        if session is not None and "status_events" in inspect(self).unloaded:
            # Set from the row's side, the history is not loaded just to be added to (a
            # SELECT, and a flush before it, on every claim and every result); a later
            # read of the history loads it with this row.
            change.match = self
            session.add(change)
        else:
            self.status_events.append(change)


class MatchPlayer(Base):
    """One seat of a match: which agent and submission, and how it ended for it."""

    __tablename__ = "match_players"

    match_id: Mapped[str] = mapped_column(
        ForeignKey("matches.id", ondelete="CASCADE"), primary_key=True
    )
    player: Mapped[int] = mapped_column(Integer, primary_key=True)
    agent_id: Mapped[str] = mapped_column(ForeignKey("agents.id", ondelete="CASCADE"), index=True)
    submission_id: Mapped[str] = mapped_column(
        ForeignKey("submissions.id", ondelete="CASCADE"), index=True
    )
    outcome: Mapped[str | None] = mapped_column(String(16))
    reason: Mapped[str | None] = mapped_column(Text)

    match: Mapped[Match] = relationship(back_populates="players")


class MatchStatusEvent(Base):
    """One status a match entered, and when."""

    __tablename__ = "match_status_events"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    match_id: Mapped[str] = mapped_column(ForeignKey("matches.id", ondelete="CASCADE"), index=True)
    status: Mapped[str] = mapped_column(String(16))
    at: Mapped[datetime] = mapped_column(default=utcnow)
    reason: Mapped[str | None] = mapped_column(Text)

    match: Mapped[Match] = relationship(back_populates="status_events")


def seat_places(match: Match) -> list[int] | None:
    """Each seat's place in a finished match (1 the best, equal for a tie), by seat; None
    for a match without a result."""
    if match.status != MatchState.FINISHED.value:
        return None
    scores = json.loads(match.scores) if match.scores else None
    return placements(match.winner, scores, len(match.players))
