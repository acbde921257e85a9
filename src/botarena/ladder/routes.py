"""HTTP routes of the ladder's switches: pause and resume (admins), and its state (public)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query

from botarena.accounts.deps import CurrentUser
from botarena.api.deps import SessionDep
from botarena.audit.deps import AuditContext
from botarena.ladder.schemas import LadderState
from botarena.ladder.service import LadderService, PausedLadders

router = APIRouter(tags=["ladder"])

GameQuery = Annotated[str | None, Query(min_length=1, max_length=64)]


@router.get("/ladder")
def ladder_state(session: SessionDep) -> LadderState:
    """Which ladders are paused."""
    return _state(LadderService(session).paused())


@router.post("/ladder/pause")
def pause(
    session: SessionDep, user: CurrentUser, context: AuditContext, game: GameQuery = None
) -> LadderState:
    """Stop scheduling ranked matches, for one game or all (matches in flight finish)."""
    return _state(LadderService(session).switch(user, context, game, paused=True))


@router.post("/ladder/resume")
def resume(
    session: SessionDep, user: CurrentUser, context: AuditContext, game: GameQuery = None
) -> LadderState:
    """Schedule ranked matches again, for one game or all."""
    return _state(LadderService(session).switch(user, context, game, paused=False))


def _state(paused: PausedLadders) -> LadderState:
    return LadderState(all_paused=paused.all_paused, paused_games=paused.paused_games)
