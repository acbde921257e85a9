"""FastAPI dependencies of teams: the team service with the agents' side wired in.

The agents come after teams on the data path: the composition root puts a factory of
:class:`botarena.teams.service.TeamAgents` at ``app.state.team_agents``.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated

from fastapi import Depends, Request
from sqlalchemy.orm import Session

from botarena.api.deps import SessionDep
from botarena.teams.service import TeamAgents, TeamService


def team_service(request: Request, session: SessionDep) -> TeamService:
    factory: Callable[[Session], TeamAgents] = request.app.state.team_agents
    return TeamService(session, factory(session))


TeamServiceDep = Annotated[TeamService, Depends(team_service)]
