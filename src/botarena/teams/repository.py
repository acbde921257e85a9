"""Database access for teams."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from botarena.accounts.models import User
from botarena.clock import utcnow
from botarena.ids import new_id
from botarena.teams.models import OWNER, Team, TeamMember


class TeamRepository:
    """Queries on teams and their members."""

    def __init__(self, session: Session) -> None:
        self.session = session

    def get(self, team_id: str) -> Team | None:
        return self.session.get(Team, team_id)

    def locked(self, team_id: str) -> Team | None:
        """The team, its row locked until the transaction ends (PostgreSQL; SQLite's write
        transactions are one at a time anyway): joins and merges count its members under it."""
        return self.session.scalars(
            select(Team)
            .where(Team.id == team_id)
            .with_for_update()
            .execution_options(populate_existing=True)
        ).one_or_none()

    def by_invite_hash(self, digest: str) -> Team | None:
        return self.session.scalars(
            select(Team).where(Team.invite_code_hash == digest)
        ).one_or_none()

    def by_name(self, competition_id: str, name: str) -> Team | None:
        return self.session.scalars(
            select(Team).where(Team.competition_id == competition_id, Team.name_key == name.lower())
        ).one_or_none()

    def page(self, competition_id: str, limit: int, offset: int) -> tuple[Sequence[Team], int]:
        """The competition's teams that were not disbanded, by name."""
        where = (Team.competition_id == competition_id, Team.disbanded_at.is_(None))
        total = self.session.scalar(select(func.count()).select_from(Team).where(*where)) or 0
        rows = self.session.scalars(
            select(Team).where(*where).order_by(Team.name_key).limit(limit).offset(offset)
        ).all()
        return rows, total

    def of_member(self, user_id: str) -> Sequence[Team]:
        """Every team the user is in, newest membership first."""
        return self.session.scalars(
            select(Team)
            .join(TeamMember, TeamMember.team_id == Team.id)
            .where(TeamMember.user_id == user_id)
            .order_by(TeamMember.joined_at.desc())
        ).all()

    def asking_to_merge_into(self, team_id: str) -> Sequence[Team]:
        """The teams whose owners asked to merge into this one, oldest request first."""
        return self.session.scalars(
            select(Team)
            .where(Team.merge_into_id == team_id, Team.disbanded_at.is_(None))
            .order_by(Team.merge_requested_at)
        ).all()

    def of_user(self, competition_id: str, user_id: str) -> Team | None:
        """The user's team in the competition, if they are in one."""
        return self.session.scalars(
            select(Team)
            .join(TeamMember, TeamMember.team_id == Team.id)
            .where(TeamMember.competition_id == competition_id, TeamMember.user_id == user_id)
        ).one_or_none()

    def team_for(self, competition_id: str, user: User) -> Team:
        """The user's team in the competition; a one-person team of theirs when they have
        none yet (named after them, or ``name-2``… when a team took that name)."""
        found = self.of_user(competition_id, user.id)
        if found is not None:
            return found
        now = utcnow()
        name = self._free_name(competition_id, user.username)
        team = Team(
            id=new_id("tea"),
            competition_id=competition_id,
            name=name,
            name_key=name.lower(),
            created_by=user.id,
            created_at=now,
        )
        team.members = [
            TeamMember(user_id=user.id, competition_id=competition_id, role=OWNER, joined_at=now)
        ]
        try:
            with self.session.begin_nested():
                self.session.add(team)
        except IntegrityError:  # made at the same time by another request of the user
            found = self.of_user(competition_id, user.id)
            if found is None:
                raise
            return found
        return team

    def _free_name(self, competition_id: str, wanted: str) -> str:
        taken = set(
            self.session.scalars(
                select(Team.name_key).where(
                    Team.competition_id == competition_id,
                    Team.name_key.like(f"{wanted.lower()}%"),
                )
            )
        )
        name, number = wanted, 1
        while name.lower() in taken:
            number += 1
            name = f"{wanted}-{number}"
        return name
