"""Agents, their submissions, and each submission's status history."""

from __future__ import annotations

import json
from datetime import datetime

from sqlalchemy import ForeignKey, Index, Integer, String, Text, UniqueConstraint, text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from botarena.accounts.models import User
from botarena.agents.status import INITIAL_STATUS, SubmissionStatus, check_transition
from botarena.clock import utcnow
from botarena.db.base import Base
from botarena.teams.models import Team


class Agent(Base):
    """A named competitor of one game, owned by a team; it plays its active submission."""

    __tablename__ = "agents"

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    name: Mapped[str] = mapped_column(String(64))
    # Lower-cased name: agent names are unique regardless of case.
    name_key: Mapped[str] = mapped_column(String(64), unique=True)
    game: Mapped[str] = mapped_column(String(64), index=True)
    # Kept without a foreign key and nullable in the schema (SQLite can neither add nor drop a
    # referencing or NOT NULL column in place, and copying this table would cascade); every
    # row written since competitions exist has one (the migration filled the older ones).
    competition_id: Mapped[str] = mapped_column(String(32), index=True, nullable=True)
    # The team that owns the agent (its members may submit, activate and read logs).
    team_id: Mapped[str] = mapped_column(String(32), index=True, nullable=True)
    owner_id: Mapped[str] = mapped_column(ForeignKey("users.id"), index=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    # How many submissions were ever made; the next one gets this plus one as its version.
    submission_count: Mapped[int] = mapped_column(Integer, default=0)

    owner: Mapped[User] = relationship()  # who created it; its team decides who may act
    team: Mapped[Team | None] = relationship(
        primaryjoin="foreign(Agent.team_id) == Team.id", viewonly=True
    )
    submissions: Mapped[list[Submission]] = relationship(
        back_populates="agent", order_by="Submission.version"
    )

    @property
    def team_name(self) -> str | None:
        """The name of the team that owns the agent (shown beside it everywhere)."""
        return self.team.name if self.team is not None else None


class Submission(Base):
    """One version of an agent's code and everything about its build."""

    __tablename__ = "submissions"
    __table_args__ = (
        UniqueConstraint("agent_id", "version", name="uq_submissions_agent_version"),
        # At most one active submission per agent, enforced by the database itself.
        Index(
            "uq_submissions_one_active",
            "agent_id",
            unique=True,
            sqlite_where=text("status = 'active'"),
            postgresql_where=text("status = 'active'"),
        ),
        Index("ix_submissions_status_queue", "status", "priority", "created_at"),
    )

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    agent_id: Mapped[str] = mapped_column(ForeignKey("agents.id", ondelete="CASCADE"), index=True)
    version: Mapped[int] = mapped_column(Integer)
    status: Mapped[str] = mapped_column(String(16), default=INITIAL_STATUS.value)
    code_url: Mapped[str | None] = mapped_column(String(2048))
    ref: Mapped[str | None] = mapped_column(String(255))
    commit_sha: Mapped[str | None] = mapped_column(String(64))
    archive_sha256: Mapped[str | None] = mapped_column(String(64))
    archive_format: Mapped[str | None] = mapped_column(String(8))
    build_job_name: Mapped[str | None] = mapped_column(String(64))
    # Written by a backend that builds in pods (Kubernetes); the local and docker ones have none.
    build_pod_name: Mapped[str | None] = mapped_column(String(253))
    docker_image_url: Mapped[str | None] = mapped_column(String(512))
    error_message: Mapped[str | None] = mapped_column(Text)
    build_log: Mapped[str | None] = mapped_column(Text)
    priority: Mapped[int] = mapped_column(Integer, default=0)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    # The build job's own state: when it may be tried again, and who holds it until when.
    not_before: Mapped[datetime | None]
    lease_owner: Mapped[str | None] = mapped_column(String(64))
    lease_until: Mapped[datetime | None]
    heartbeat_at: Mapped[datetime | None]
    build_backend: Mapped[str | None] = mapped_column(String(16))
    # What a successful build produced (a prepared folder or an image reference), as JSON.
    artifact: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)
    # Bumped on every write: two writers racing on one submission cannot both win.
    row_version: Mapped[int] = mapped_column(Integer, default=1)

    agent: Mapped[Agent] = relationship(back_populates="submissions")
    status_events: Mapped[list[SubmissionStatusEvent]] = relationship(
        back_populates="submission",
        order_by="SubmissionStatusEvent.id",
        cascade="all, delete-orphan",
    )

    __mapper_args__ = {"version_id_col": row_version}  # noqa: RUF012 - read by SQLAlchemy

    @property
    def build_warnings(self) -> list[str]:
        """Warnings of the build that made the artifact (an image scan's findings)."""
        return artifact_warnings(self.artifact)

    @property
    def current_status(self) -> SubmissionStatus:
        """The status as the enum."""
        return SubmissionStatus(self.status)

    def move_to(
        self, new: SubmissionStatus, *, reason: str | None = None, at: datetime | None = None
    ) -> None:
        """Change status through the status machine and record the change with its time."""
        check_transition(self.current_status, new)
        now = at or utcnow()
        self.status = new.value
        self.updated_at = now
        self.status_events.append(SubmissionStatusEvent(status=new.value, at=now, reason=reason))


class SubmissionStatusEvent(Base):
    """One status a submission entered, and when."""

    __tablename__ = "submission_status_events"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    submission_id: Mapped[str] = mapped_column(
        ForeignKey("submissions.id", ondelete="CASCADE"), index=True
    )
    status: Mapped[str] = mapped_column(String(16))
    at: Mapped[datetime] = mapped_column(default=utcnow)
    reason: Mapped[str | None] = mapped_column(Text)

    submission: Mapped[Submission] = relationship(back_populates="status_events")


def artifact_warnings(artifact: str | None) -> list[str]:
    """The warnings recorded in a submission's artifact column (JSON), if any."""
    if not artifact:
        return []
    warnings = json.loads(artifact).get("warnings") or []
    return [str(w) for w in warnings]
