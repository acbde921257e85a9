"""One row per build attempt: who built what, how it ended, and why."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import ForeignKey, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from botarena.clock import utcnow
from botarena.db.base import Base


class AttemptOutcome(StrEnum):
    """How an attempt ended. Only ``user_error`` is the participant's doing."""

    RUNNING = "running"
    SUCCESS = "success"
    USER_ERROR = "user_error"  # their code or requirements: not retried
    PLATFORM_ERROR = "platform_error"  # ours: retried with backoff, never counted against them
    INTERRUPTED = "interrupted"  # the worker went away: handed back to the queue


class BuildAttempt(Base):
    """A single try at building a submission."""

    __tablename__ = "build_attempts"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    submission_id: Mapped[str] = mapped_column(
        ForeignKey("submissions.id", ondelete="CASCADE"), index=True
    )
    number: Mapped[int] = mapped_column(Integer)
    worker: Mapped[str] = mapped_column(String(64))
    backend: Mapped[str] = mapped_column(String(16))
    outcome: Mapped[str] = mapped_column(String(16), default=AttemptOutcome.RUNNING.value)
    reason: Mapped[str | None] = mapped_column(String(32))
    message: Mapped[str | None] = mapped_column(Text)
    started_at: Mapped[datetime] = mapped_column(default=utcnow)
    finished_at: Mapped[datetime | None]
