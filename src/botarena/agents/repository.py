"""Database access for agents and submissions."""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass
from datetime import datetime
from functools import cache
from typing import Any

from sqlalchemy import (
    ColumnElement,
    Integer,
    Row,
    Select,
    and_,
    bindparam,
    case,
    func,
    or_,
    select,
    update,
)
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
        query = select(Agent).options(selectinload(Agent.team))  # each row names its team
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

    def count_for_team_since(self, team_id: str, since: datetime) -> int:
        """How many submissions the team's agents made from ``since`` on (its daily count)."""
        return int(
            self.session.scalar(
                select(func.count())
                .select_from(Submission)
                .join(Agent, Agent.id == Submission.agent_id)
                .where(Agent.team_id == team_id, Submission.created_at >= since)
            )
            or 0
        )

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

    def status_with_history(
        self, submission_id: str
    ) -> tuple[Row[Any], list[tuple[str, datetime]]] | None:
        """The submission's columns the build status shows with its ``queue_position`` (as
        :meth:`queue_position_of`), and its status history (status, time) oldest first; None
        for no such submission. One statement, one round trip."""
        rows = self.session.execute(_status_statement(), {"submission_id": submission_id}).all()
        if not rows:
            return None
        history = [(row.event_status, row.event_at) for row in rows if row.event_id is not None]
        return rows[0], history

    def queue_position(self, submission: Submission) -> int | None:
        """:meth:`queue_position_of` an ORM submission."""
        return self.queue_position_of(
            QueueKey(
                submission.id,
                submission.status,
                submission.lease_owner,
                submission.version,
                submission.priority,
                submission.created_at,
            )
        )

    def queue_position_of(self, key: QueueKey) -> int | None:
        """How many queued builds come before this one; None unless it waits for a builder.

        Queued: pending, or a requested rebuild not yet taken (building, no worker). Queue
        order: higher priority first, then an agent's first submission before its
        re-submissions, then the oldest.
        """
        waiting = key.status == SubmissionStatus.PENDING.value or (
            key.status == SubmissionStatus.BUILDING.value and key.lease_owner is None
        )
        if not waiting:
            return None
        params = {
            "id": key.id,
            "priority": key.priority,
            "first": 0 if key.version == 1 else 1,
            "created_at": key.created_at,
        }
        return self.session.execute(_ahead_statement(), params).scalar() or 0


@dataclass(frozen=True)
class QueueKey:
    """What places a submission in the build queue."""

    id: str
    status: str
    lease_owner: str | None
    version: int
    priority: int
    created_at: datetime


# The build status is the most polled read of the API: its statements are Core ones on the
# tables, built once with bound parameters, so a request neither rebuilds them nor computes
# their cache key, and their rows skip the ORM.


@cache
def _status_statement() -> Select[Any]:
    me = Submission.__table__.alias("me")
    events = SubmissionStatusEvent.__table__.c
    # Counted only for a submission that waits (CASE evaluates the count for those only).
    position = case(
        (
            _waits(me.c.status, me.c.lease_owner),
            select(func.count())
            .select_from(Submission.__table__)
            .where(
                _ahead_of(
                    me.c.id, me.c.priority, case((me.c.version == 1, 0), else_=1), me.c.created_at
                )
            )
            .scalar_subquery(),
        ),
        else_=None,
    )
    one = (
        select(
            me.c.id,
            me.c.status,
            me.c.build_job_name,
            me.c.build_pod_name,
            me.c.docker_image_url,
            me.c.error_message,
            me.c.artifact,
            me.c.created_at,
            me.c.updated_at,
            position.label("queue_position"),
        )
        .where(me.c.id == bindparam("submission_id", type_=me.c.id.type))
        .subquery("one")
    )
    return (
        select(
            one,
            events.id.label("event_id"),
            events.status.label("event_status"),
            events.at.label("event_at"),
        )
        .select_from(
            one.outerjoin(SubmissionStatusEvent.__table__, events.submission_id == one.c.id)
        )
        .order_by(events.id)
    )


@cache
def _ahead_statement() -> Select[Any]:
    """The count of queued submissions ahead of the one of the parameters."""
    subs = Submission.__table__.c
    ahead = _ahead_of(
        bindparam("id", type_=subs.id.type),
        bindparam("priority", type_=subs.priority.type),
        bindparam("first", type_=Integer()),
        bindparam("created_at", type_=subs.created_at.type),
    )
    return select(func.count()).select_from(Submission.__table__).where(ahead)


def _waits(status: Any, lease_owner: Any) -> ColumnElement[bool]:
    """Waiting for a builder: pending, or a requested rebuild not yet taken (building, no
    worker)."""
    return or_(
        status == SubmissionStatus.PENDING.value,
        and_(status == SubmissionStatus.BUILDING.value, lease_owner.is_(None)),
    )


def _ahead_of(me: Any, priority: Any, mine_first: Any, created_at: Any) -> ColumnElement[bool]:
    """A submission waiting ahead of the one given by its id, priority, first-submission key
    (0 for an agent's first, else 1) and creation time: higher priority first, then an
    agent's first submission before its re-submissions, then the oldest, then the id."""
    subs = Submission.__table__.c
    first_key = case((subs.version == 1, 0), else_=1)
    return and_(
        _waits(subs.status, subs.lease_owner),
        subs.id != me,
        or_(
            subs.priority > priority,
            and_(subs.priority == priority, first_key < mine_first),
            and_(
                subs.priority == priority,
                first_key == mine_first,
                or_(
                    subs.created_at < created_at,
                    and_(subs.created_at == created_at, subs.id < me),
                ),
            ),
        ),
    )
