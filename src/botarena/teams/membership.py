"""Teams' answer to :class:`botarena.competitions.membership.Membership`: taking part in a
competition is being in one of its teams."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from botarena.accounts.models import User
from botarena.teams.models import TeamMember
from botarena.teams.repository import TeamRepository


class TeamMembership:
    """Competitions' membership, read from and written to the teams' tables."""

    def __init__(self, session: Session) -> None:
        self.session = session

    def competitions_of(self, user_id: str) -> set[str]:
        return set(
            self.session.scalars(
                select(TeamMember.competition_id).where(TeamMember.user_id == user_id)
            )
        )

    def join(self, competition_id: str, user: User) -> str:
        return TeamRepository(self.session).team_for(competition_id, user).id
