"""Reading rows straight from the database in tests, detached from their session."""

from __future__ import annotations

from typing import TypeVar

from botarena.agents.models import Submission
from botarena.db.engine import SessionFactory
from botarena.matches.models import Match

Row = TypeVar("Row", Submission, Match)


def submission_row(factory: SessionFactory, sub_id: str) -> Submission:
    """The submission as stored now (its columns readable after the session closed)."""
    return _row(factory, Submission, sub_id)


def match_row(factory: SessionFactory, match_id: str) -> Match:
    """The match as stored now."""
    return _row(factory, Match, match_id)


def _row(factory: SessionFactory, model: type[Row], key: str) -> Row:
    with factory() as session:
        row = session.get(model, key)
        assert row is not None, f"no {model.__name__} {key}"
        session.expunge(row)
        return row
