"""FastAPI dependencies of competitions: who takes part where.

Membership is the teams' to say; the composition root sets ``app.state.competition_membership``
to a factory taking the request's session (see :mod:`botarena.competitions.membership`).
"""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request

from botarena.api.deps import SessionDep
from botarena.competitions.membership import Membership


def competition_membership(request: Request, session: SessionDep) -> Membership:
    membership: Membership = request.app.state.competition_membership(session)
    return membership


MembershipDep = Annotated[Membership, Depends(competition_membership)]
