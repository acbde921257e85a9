"""Who takes part in a competition, as competitions need to know it: being in one of its
teams. Teams come later in the stage order, so the composition root hands the teams' own
implementation in (``app.state.competition_membership``, see :mod:`botarena.teams.membership`).
"""

from __future__ import annotations

from typing import Protocol

from botarena.accounts.models import User


class Membership(Protocol):
    """A user's place in competitions."""

    def competitions_of(self, user_id: str) -> set[str]:
        """The competitions the user is in (in a team of)."""
        ...

    def join(self, competition_id: str, user: User) -> str:
        """The user's team there, a one-person one made when they have none; its id."""
        ...
