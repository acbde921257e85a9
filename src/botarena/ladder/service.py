"""The ladder's rules: which games are paused, and who may pause or resume them (admins,
audited). The scheduler asks :func:`is_paused` before it queues a ranked match."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from botarena.accounts.models import User
from botarena.audit.actions import Action
from botarena.audit.context import ActionContext
from botarena.audit.service import AuditLog
from botarena.clock import utcnow
from botarena.errors import forbidden, invalid
from botarena.games.registry import UnknownGameError, get_game
from botarena.ladder.models import ALL_GAMES, LadderGame


@dataclass(frozen=True)
class PausedLadders:
    """Whether every game's ladder is paused, and which games' own ladders are."""

    all_paused: bool
    paused_games: list[str]


class LadderService:
    """Reading and switching the ladder's pauses."""

    def __init__(self, session: Session) -> None:
        self.session = session

    def paused(self) -> PausedLadders:
        rows = self.session.scalars(select(LadderGame).where(LadderGame.paused.is_(True))).all()
        return PausedLadders(
            all_paused=any(r.game == ALL_GAMES for r in rows),
            paused_games=sorted(r.game for r in rows if r.game != ALL_GAMES),
        )

    def switch(
        self, user: User, context: ActionContext, game: str | None, *, paused: bool
    ) -> PausedLadders:
        """Pause or resume one game's ladder, or every game's (``game`` None): admins only,
        audited, committed; returns the pauses as they are now."""
        if not user.is_admin:
            raise forbidden("Only admins may pause or resume the ladder")
        if game is not None:
            try:
                get_game(game)
            except UnknownGameError as exc:
                raise invalid("game", exc.message) from exc
        _set_paused(self.session, game, paused)
        AuditLog(self.session).record(
            context,
            Action.LADDER_PAUSED if paused else Action.LADDER_RESUMED,
            target_type="ladder",
            target_id=game or ALL_GAMES,
            details={"game": game},
        )
        self.session.commit()
        return self.paused()


def is_paused(session: Session, game: str) -> bool:
    """True when ``game``'s ladder is paused, on its own or with every game's."""
    switches = session.scalars(
        select(LadderGame.paused).where(LadderGame.game.in_((game, ALL_GAMES)))
    ).all()
    return any(switches)


def _set_paused(session: Session, game: str | None, paused: bool) -> None:
    """Pause or resume one game's ladder, or every game's (``game`` None). The caller commits.
    Resuming every game clears each game's own pause as well."""
    key = game or ALL_GAMES
    switch = session.get(LadderGame, key) or LadderGame(game=key)
    switch.paused = paused
    switch.updated_at = utcnow()
    session.add(switch)
    if game is None and not paused:
        for other in session.scalars(select(LadderGame)):
            other.paused = False
            other.updated_at = utcnow()
    session.flush()
