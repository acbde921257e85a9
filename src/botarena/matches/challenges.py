"""Challenges: an agent's owner asks for an unranked match against another active agent of
the same game, counted against the owner's scrimmage quota like any unranked match."""

from __future__ import annotations

from sqlalchemy.orm import Session

from botarena.accounts.models import User
from botarena.agents.repository import SubmissionRepository
from botarena.agents.service import AgentService, may_see_private
from botarena.errors import forbidden, invalid
from botarena.matches.models import Match
from botarena.matches.service import MatchService
from botarena.settings import Settings

OPPONENT = "opponent"


class Challenges:
    """One unit of work per challenge: checked, queued and committed, or nothing written."""

    def __init__(self, session: Session, settings: Settings) -> None:
        self.session = session
        self.matches = MatchService(session, settings)

    def challenge(self, user: User, agent_id: str, opponent_id: str) -> Match:
        """Queue an unranked match of ``agent_id`` (the user's own, or any for an admin)
        against ``opponent_id``, which must be another agent of the game with an active
        submission. The challenger plays its active (else newest built) code, as in any match
        the API creates; 403 for someone else's agent, 429 over the quota, 422 naming the
        opponent field for a refused opponent."""
        agents = AgentService(self.session)
        agent = agents.get(agent_id)
        if not may_see_private(user, agent):
            raise forbidden("Only the agent's team can challenge with it")
        self.matches.check_quota(user)
        if opponent_id == agent.id:
            raise invalid(OPPONENT, "An agent cannot challenge itself")
        opponent = agents.many([opponent_id]).get(opponent_id)
        if opponent is None:
            raise invalid(OPPONENT, "No such opponent")
        if opponent.game != agent.game:
            raise invalid(OPPONENT, f"{opponent.name} plays {opponent.game}, not {agent.game}")
        active = SubmissionRepository(self.session).active_for_agent(opponent.id)
        if active is None:
            raise invalid(OPPONENT, f"{opponent.name} has no active submission")
        mine = self.matches.playing("agent1", agent)
        match = self.matches.add(
            agent.game,
            [(agent, mine), (opponent, active)],
            origin=f"challenge by {user.username}: {agent.name} vs {opponent.name}",
            creator=user,
        )
        self.session.commit()
        return match
