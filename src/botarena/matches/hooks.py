"""How later stages learn that a match finished, without matches knowing who they are.

Matches come before ratings, ladders and tournaments, so the match queue cannot call them.
It calls a :class:`FinishedMatchHook` that the composition root (``create_app``, the worker
set-up) hands it, the ratings' own, in two steps around stamping the match ``finished``
inside the recording's transaction: first the hook locks what it will change, then, once
the match is stamped, it changes it. Ratings rely on that order: whoever locks first stamps
first, so updates apply in the order matches finished.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Protocol

from sqlalchemy.orm import Session

from botarena.matches.models import Match

# The second step: called with the time the match was stamped finished.
AfterFinished = Callable[[datetime], None]


class FinishedMatchHook(Protocol):
    """Told of every match about to be recorded ``finished`` (ranked or not)."""

    def prepare(self, session: Session, match: Match) -> AfterFinished:
        """Lock what this hook will change for ``match`` (not stamped finished yet, its result
        not written yet) and return the step that changes it once the match is stamped."""
        ...
