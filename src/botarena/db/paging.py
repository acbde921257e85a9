"""One page of a query and the total it pages through: what every list endpoint reads."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, TypeVar

from sqlalchemy import Select, func, select
from sqlalchemy.orm import Session

T = TypeVar("T")


def page_of(
    session: Session, query: Select[T], order: Sequence[Any], limit: int, offset: int
) -> tuple[Sequence[T], int]:
    """The rows of ``query`` from ``offset`` (at most ``limit``) in ``order``, and the count
    of all its rows."""
    total = session.scalar(select(func.count()).select_from(query.subquery())) or 0
    items = session.scalars(query.order_by(*order).limit(limit).offset(offset)).all()
    return items, total
