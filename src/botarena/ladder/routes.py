"""HTTP routes of the ladder's switches: pause and resume (admins), and its state (public)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query
from sqlalchemy import select

from botarena.accounts.deps import CurrentUser
from botarena.api.deps import SessionDep
from botarena.api.schema import ApiModel
from botarena.audit.actions import Action
from botarena.audit.deps import AuditContext
from botarena.audit.service import AuditLog
from botarena.errors import forbidden, invalid
from botarena.games.registry import UnknownGameError, get_game
from botarena.ladder.models import ALL_GAMES, LadderGame
from botarena.ladder.scheduler import set_paused

router = APIRouter(tags=["ladder"])

GameQuery = Annotated[str | None, Query(min_length=1, max_length=64)]


class LadderState(ApiModel):
    """Which ladders are paused: every game (``all``) or the games listed."""

    all_paused: bool
    paused_games: list[str]


def _state(session: SessionDep) -> LadderState:
    rows = session.scalars(select(LadderGame).where(LadderGame.paused.is_(True))).all()
    return LadderState(
        all_paused=any(r.game == ALL_GAMES for r in rows),
        paused_games=sorted(r.game for r in rows if r.game != ALL_GAMES),
    )


def _switch(
    session: SessionDep, user: CurrentUser, context: AuditContext, game: str | None, paused: bool
) -> LadderState:
    if not user.is_admin:
        raise forbidden("Only admins may pause or resume the ladder")
    if game is not None:
        try:
            get_game(game)
        except UnknownGameError as exc:
            raise invalid("game", str(exc).strip("'\"")) from exc
    set_paused(session, game, paused)
    AuditLog(session).record(
        context,
        Action.LADDER_PAUSED if paused else Action.LADDER_RESUMED,
        target_type="ladder",
        target_id=game or ALL_GAMES,
        details={"game": game},
    )
    session.commit()
    return _state(session)


@router.get("/ladder")
def ladder_state(session: SessionDep) -> LadderState:
    """Which ladders are paused."""
    return _state(session)


@router.post("/ladder/pause")
def pause(
    session: SessionDep, user: CurrentUser, context: AuditContext, game: GameQuery = None
) -> LadderState:
    """Stop scheduling ranked matches, for one game or all (matches in flight finish)."""
    return _switch(session, user, context, game, True)


@router.post("/ladder/resume")
def resume(
    session: SessionDep, user: CurrentUser, context: AuditContext, game: GameQuery = None
) -> LadderState:
    """Schedule ranked matches again, for one game or all."""
    return _switch(session, user, context, game, False)
