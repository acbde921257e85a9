"""Teams and their members.

Taking part in a competition is being in one of its teams: a user's first agent there makes
a one-person team of them (as the migration did for every agent that existed before teams),
which others may then join.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from botarena.accounts.models import User
from botarena.clock import utcnow
from botarena.db.base import Base

OWNER = "owner"
MEMBER = "member"


class Team(Base):
    """A team of one competition."""

    __tablename__ = "teams"
    __table_args__ = (
        UniqueConstraint("competition_id", "name_key", name="uq_teams_competition_name"),
    )

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    competition_id: Mapped[str] = mapped_column(
        ForeignKey("competitions.id", ondelete="CASCADE"), index=True
    )
    name: Mapped[str] = mapped_column(String(64))
    # Lower-cased name: team names are unique in a competition regardless of case.
    name_key: Mapped[str] = mapped_column(String(64))
    created_by: Mapped[str | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    # SHA-256 of the current invite code (the code itself is shown once, when it is made).
    invite_code_hash: Mapped[str | None] = mapped_column(String(64), unique=True, index=True)
    # A merge this team's owner asked for: into that team, once its owner accepts.
    merge_into_id: Mapped[str | None] = mapped_column(String(32), index=True)
    merge_requested_at: Mapped[datetime | None]
    # Set by an admin's disbanding: no members since, its agents kept but no longer playing.
    disbanded_at: Mapped[datetime | None]

    members: Mapped[list[TeamMember]] = relationship(
        order_by="TeamMember.joined_at", cascade="all, delete-orphan"
    )


class TeamMember(Base):
    """One user in one team; the competition is repeated so that the database itself keeps a
    user to one team per competition."""

    __tablename__ = "team_members"
    __table_args__ = (
        UniqueConstraint("competition_id", "user_id", name="uq_team_members_competition_user"),
        Index("ix_team_members_user_id", "user_id"),
    )

    team_id: Mapped[str] = mapped_column(
        ForeignKey("teams.id", ondelete="CASCADE"), primary_key=True
    )
    user_id: Mapped[str] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), primary_key=True
    )
    competition_id: Mapped[str] = mapped_column(ForeignKey("competitions.id", ondelete="CASCADE"))
    role: Mapped[str] = mapped_column(String(16), default=MEMBER)
    joined_at: Mapped[datetime] = mapped_column(default=utcnow)

    user: Mapped[User] = relationship(lazy="joined")
