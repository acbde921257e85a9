"""A table of jobs of the tests' own ("chores"), to try the leased-job queue on a table that
is neither builds nor matches: its own statuses, order, history and no heartbeat column."""

from __future__ import annotations

import functools
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime
from enum import StrEnum

from sqlalchemy import Engine, Integer, String, Text
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from botarena.db.base import UTCDateTime
from botarena.db.engine import SessionFactory, build_engine, build_session_factory
from botarena.jobs.table import JobTable


class ChoreState(StrEnum):
    WAITING = "waiting"
    WORKING = "working"
    DONE = "done"


# Which status may follow which; the queue must only ever ask for these.
_NEXT = {
    ChoreState.WAITING: {ChoreState.WORKING},
    ChoreState.WORKING: {ChoreState.WAITING, ChoreState.DONE},
    ChoreState.DONE: set(),
}


class ChoreBase(DeclarativeBase):
    """Apart from the platform's models: its tables are made and dropped by the tests."""

    type_annotation_map = {datetime: UTCDateTime}  # noqa: RUF012 - read by SQLAlchemy


class Chore(ChoreBase):
    __tablename__ = "test_chores"

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    urgency: Mapped[int] = mapped_column(Integer, default=0)
    status: Mapped[str] = mapped_column(String(16), default=ChoreState.WAITING.value)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    not_before: Mapped[datetime | None]
    lease_owner: Mapped[str | None] = mapped_column(String(64))
    lease_until: Mapped[datetime | None]
    seen_at: Mapped[datetime | None]
    # "status at reason" lines, oldest first.
    history: Mapped[str] = mapped_column(Text, default="")

    def move_to(
        self, new: ChoreState, *, reason: str | None = None, at: datetime | None = None
    ) -> None:
        if new not in _NEXT[ChoreState(self.status)]:
            raise AssertionError(f"a chore cannot go from {self.status} to {new.value}")
        self.status = new.value
        self.history = (self.history or "") + f"{new.value}: {reason}\n"

    @property
    def steps(self) -> list[str]:
        return (self.history or "").splitlines()


@functools.cache
def chore_jobs(heartbeat: bool = False) -> JobTable[Chore]:
    """The most urgent waiting chore first, then by id; ``seen_at`` as the heartbeat if asked."""
    return JobTable(
        Chore,
        queued=ChoreState.WAITING,
        running=ChoreState.WORKING,
        waiting=Chore.status == ChoreState.WAITING.value,
        holding=Chore.status == ChoreState.WORKING.value,
        order=(Chore.urgency.desc(), Chore.id.asc()),
        heartbeat="seen_at" if heartbeat else None,
    )


@contextmanager
def chore_database(url: str) -> Iterator[tuple[Engine, SessionFactory]]:
    """The chores' table in the database at ``url``, dropped afterwards."""
    engine = build_engine(url)
    ChoreBase.metadata.create_all(engine)
    try:
        yield engine, build_session_factory(engine)
    finally:
        ChoreBase.metadata.drop_all(engine)
        engine.dispose()
