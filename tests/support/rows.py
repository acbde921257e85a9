"""Reading rows straight from the database in tests, detached from their session."""

from __future__ import annotations

from botarena.agents.models import Submission
from botarena.db.engine import SessionFactory


def submission_row(factory: SessionFactory, sub_id: str) -> Submission:
    """The submission as stored now (its columns readable after the session closed)."""
    with factory() as session:
        row = session.get(Submission, sub_id)
        assert row is not None
        session.expunge(row)
        return row
