"""Database access for agents and submissions."""

from __future__ import annotations

from collections.abc import Collection, Sequence

from sqlalchemy import and_, case, func, or_, select, update
from sqlalchemy.orm import Session, selectinload

from botarena.agents.models import Agent, Submission, SubmissionStatusEvent
from botarena.agents.status import SubmissionStatus
from botarena.db.paging import page_of


class AgentRepository:
    """Queries on agents."""

    def __init__(self, session: Session) -> None:
        self.session = session

    def get(self, agent_id: str) -> Agent | None:
        return self.session.get(Agent, agent_id)

    def by_name(self, name: str) -> Agent | None:
        return self.session.scalar(select(Agent).where(Agent.name_key == name.lower()))

    def many(self, agent_ids: Collection[str]) -> dict[str, Agent]:
        """The agents of ``agent_ids`` that exist, by id (one query)."""
        if not agent_ids:
            return {}
        rows = self.session.scalars(select(Agent).where(Agent.id.in_(set(agent_ids))))
        return {agent.id: agent for agent in rows}

    def add(self, agent: Agent) -> Agent:
        self.session.add(agent)
        self.session.flush()
        return agent

    def page(
        self,
        *,
        limit: int,
        offset: int,
        name: str | None = None,
        game: str | None = None,
        owner_id: str | None = None,
    ) -> tuple[Sequence[Agent], int]:
        query = select(Agent)
        if name is not None:
            query = query.where(Agent.name_key == name.lower())
        if game is not None:
            query = query.where(Agent.game == game)
        if owner_id is not None:
            query = query.where(Agent.owner_id == owner_id)
        return page_of(self.session, query, (Agent.created_at, Agent.id), limit, offset)

    def next_version(self, agent_id: str) -> int:
        """Atomically take the agent's next submission version (1, 2, 3, …)."""
        self.session.execute(
            update(Agent)
            .where(Agent.id == agent_id)
            .values(submission_count=Agent.submission_count + 1)
            .execution_options(synchronize_session=False)
        )
        version = self.session.scalar(select(Agent.submission_count).where(Agent.id == agent_id))
        assert version is not None
        return version


class SubmissionRepository:
    """Queries on submissions."""

    def __init__(self, session: Session) -> None:
        self.session = session

    def get(self, submission_id: str) -> Submission | None:
        return self.session.get(Submission, submission_id)

    def add(self, submission: Submission) -> Submission:
        self.session.add(submission)
        self.session.flush()
        return submission

    def active_for_agent(self, agent_id: str) -> Submission | None:
        return self.session.scalar(
            select(Submission).where(
                Submission.agent_id == agent_id,
                Submission.status == SubmissionStatus.ACTIVE.value,
            )
        )

    def page(
        self,
        *,
        limit: int,
        offset: int,
        status: SubmissionStatus | None = None,
        agent_id: str | None = None,
    ) -> tuple[Sequence[Submission], int]:
        query = select(Submission)
        if status is not None:
            query = query.where(Submission.status == status.value)
        if agent_id is not None:
            query = query.where(Submission.agent_id == agent_id)
        return page_of(self.session, query, (Submission.created_at, Submission.id), limit, offset)

    def agent_timeline(
        self, agent_id: str, limit: int
    ) -> Sequence[tuple[SubmissionStatusEvent, int]]:
        """The newest ``limit`` status changes of the agent's submissions, newest first, each
        with its submission's version."""
        rows = self.session.execute(
            select(SubmissionStatusEvent, Submission.version)
            .join(Submission, Submission.id == SubmissionStatusEvent.submission_id)
            .where(Submission.agent_id == agent_id)
            .order_by(SubmissionStatusEvent.id.desc())
            .limit(limit)
        ).all()
        return [(event, version) for event, version in rows]

    def with_history(self, submission_id: str) -> Submission | None:
        return self.session.scalar(
            select(Submission)
            .where(Submission.id == submission_id)
            .options(selectinload(Submission.status_events))
        )

    def queue_position(self, submission: Submission) -> int | None:
        """How many queued builds come before this one; None unless it waits for a builder.

        Queued: pending, or a requested rebuild not yet taken (building, no worker). Queue
        order: higher priority first, then an agent's first submission before its
        re-submissions, then the oldest.
        """
        pending = SubmissionStatus.PENDING.value
        building = SubmissionStatus.BUILDING.value
        waiting = submission.status == pending or (
            submission.status == building and submission.lease_owner is None
        )
        if not waiting:
            return None
        mine_first = 0 if submission.version == 1 else 1
        first_key = case((Submission.version == 1, 0), else_=1)
        ahead = and_(
            or_(
                Submission.status == pending,
                and_(Submission.status == building, Submission.lease_owner.is_(None)),
            ),
            Submission.id != submission.id,
            or_(
                Submission.priority > submission.priority,
                and_(Submission.priority == submission.priority, first_key < mine_first),
                and_(
                    Submission.priority == submission.priority,
                    first_key == mine_first,
                    or_(
                        Submission.created_at < submission.created_at,
                        and_(
                            Submission.created_at == submission.created_at,
                            Submission.id < submission.id,
                        ),
                    ),
                ),
            ),
        )
        return self.session.scalar(select(func.count()).select_from(Submission).where(ahead)) or 0
