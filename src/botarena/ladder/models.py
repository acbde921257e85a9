"""Whether the ladder runs, per game (``*``: every game), kept across restarts."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Boolean, String
from sqlalchemy.orm import Mapped, mapped_column

from botarena.clock import utcnow
from botarena.db.base import Base

ALL_GAMES = "*"


class LadderGame(Base):
    """The ladder's switch for one game, or for all of them."""

    __tablename__ = "ladder_games"

    game: Mapped[str] = mapped_column(String(64), primary_key=True)
    paused: Mapped[bool] = mapped_column(Boolean, default=False)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)
