"""What the team rules need of agents (:class:`botarena.teams.service.TeamAgents`): which a
team owns, moving them to another team, stopping them from playing."""

from __future__ import annotations

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from botarena.agents.models import Agent, Submission
from botarena.agents.status import SubmissionStatus
from botarena.teams.service import TeamAgent


class AgentTeams:
    """The agents of teams, in the caller's transaction (nothing here commits)."""

    def __init__(self, session: Session) -> None:
        self.session = session

    def of_team(self, team_id: str) -> list[TeamAgent]:
        rows = self.session.execute(
            select(Agent.id, Agent.name, Agent.game)
            .where(Agent.team_id == team_id)
            .order_by(Agent.created_at, Agent.id)
        )
        return [TeamAgent(id=i, name=name, game=game) for i, name, game in rows]

    def move(self, from_team_id: str, to_team_id: str) -> None:
        self.session.execute(
            update(Agent)
            .where(Agent.team_id == from_team_id)
            .values(team_id=to_team_id)
            .execution_options(synchronize_session="fetch")
        )

    def retire(self, team_id: str, reason: str) -> list[str]:
        playing = self.session.scalars(
            select(Submission)
            .join(Agent, Agent.id == Submission.agent_id)
            .where(Agent.team_id == team_id, Submission.status == SubmissionStatus.ACTIVE.value)
        ).all()
        for submission in playing:
            submission.move_to(SubmissionStatus.INACTIVE, reason=reason)
        return sorted(s.agent_id for s in playing)
