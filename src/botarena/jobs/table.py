"""What a table of leased jobs must hold, and how a queue finds its way in one.

A job row has a status, an attempt counter, a backoff time (``not_before``) and a lease (who
holds it, until when); its status changes through the row's own status machine
(``move_to``), which also writes the change into the row's history. A :class:`JobTable` says
which statuses mean "waiting" and "held", which rows a worker may take and in what order.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Any, Generic, Protocol, TypeVar, cast

from sqlalchemy import Column, ColumnElement, inspect
from sqlalchemy.orm import DeclarativeBase

S_contra = TypeVar("S_contra", bound=StrEnum, contravariant=True)


class LeasedJob(Protocol[S_contra]):
    """A mapped row that is a job; ``S_contra`` is the enum of its statuses."""

    id: str
    status: str
    attempts: int
    not_before: datetime | None
    lease_owner: str | None
    lease_until: datetime | None

    def move_to(
        self, new: S_contra, *, reason: str | None = None, at: datetime | None = None
    ) -> None: ...


# Any mapped class; :class:`JobTable` checks at run time that it has what a job needs. (mypy
# cannot bound a type variable by :class:`LeasedJob`: it does not see a mapped attribute as
# the plain value the protocol names, although an instance fits the protocol.)
J = TypeVar("J", bound=DeclarativeBase)


def as_job(row: object) -> LeasedJob[Any]:
    """A row of a :class:`JobTable`'s model, seen as the job it is."""
    return cast("LeasedJob[Any]", row)


@dataclass(frozen=True, eq=False)
class JobTable(Generic[J]):
    """How the rows of ``model`` are queued.

    ``queued`` is the status of a job waiting for a worker, ``running`` that of a job a
    worker holds. ``waiting`` selects the rows a worker may take once their backoff has
    passed, ``holding`` the rows some worker holds now (the ones whose lease may run out), and
    ``order`` says which waiting row goes first. ``heartbeat`` names a column stamped at every
    claim and renewal, for tables that show when their worker was last heard of.
    """

    model: type[J]
    queued: StrEnum
    running: StrEnum
    waiting: ColumnElement[bool]
    holding: ColumnElement[bool]
    order: tuple[ColumnElement[Any], ...]
    heartbeat: str | None = None
    # What the metrics call this queue (``builds``, ``matches``); default: the table's name.
    name: str | None = None
    _columns: dict[str, Column[Any]] = field(init=False, repr=False)

    def __post_init__(self) -> None:
        columns = dict(inspect(self.model).columns.items())
        needed = ["status", "attempts", "not_before", "lease_owner", "lease_until"]
        if self.heartbeat is not None:
            needed.append(self.heartbeat)
        missing = [name for name in needed if name not in columns]
        if missing:
            raise TypeError(f"{self.model.__name__} cannot hold jobs: no column {missing}")
        if not callable(getattr(self.model, "move_to", None)):
            raise TypeError(f"{self.model.__name__} cannot hold jobs: it has no move_to")
        object.__setattr__(self, "_columns", columns)

    @property
    def queue_name(self) -> str:
        return self.name or str(self.model.__tablename__)

    def column(self, name: str) -> Column[Any]:
        """One of the job's columns, for queries."""
        return self._columns[name]
