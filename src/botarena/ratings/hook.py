"""The ratings' side of a finished match: the hook the composition root hands the match queue."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.orm import Session

from botarena.matches.hooks import AfterFinished
from botarena.matches.models import Match
from botarena.ratings.book import RatingBook


def _unranked(_at: datetime) -> None:
    """A scrimmage changes no rating."""


class RatingsHook:
    """Updates the two ratings of each finished ranked match (a ``FinishedMatchHook``)."""

    def prepare(self, session: Session, match: Match) -> AfterFinished:
        """Lock (creating where missing) the players' ratings; the step returned applies the
        match to them once it is stamped finished."""
        if not match.ranked:
            return _unranked
        book = RatingBook(session)
        held = book.hold([p.submission_id for p in match.players], match.game)

        def apply(at: datetime) -> None:
            book.apply(match, held, at)

        return apply
