"""What the admin page shows, read through the services the API uses: users, each game's
ladder switch, the build and match queues, the executors as the dispatcher last heard them,
and tournaments."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy.orm import Session

from botarena.accounts.models import User
from botarena.accounts.service import AccountService
from botarena.agents.models import Agent, Submission
from botarena.agents.service import AgentService
from botarena.builds.queue import BuildQueue
from botarena.games.registry import known_games
from botarena.ladder.service import LadderService
from botarena.matches.executors import ExecutorHealth
from botarena.matches.models import Match
from botarena.matches.service import MatchService, origin_of
from botarena.settings import Settings
from botarena.tournaments.models import Tournament
from botarena.tournaments.service import TournamentService

USERS_SHOWN = 200
QUEUE_SHOWN = 100
TOURNAMENTS_SHOWN = 50
FORMATS = (
    ("round_robin", "Round robin"),
    ("swiss", "Swiss"),
    ("single_elimination", "Single elimination"),
    ("free_for_all", "Free-for-all (tables of the game's size)"),
)


@dataclass(frozen=True)
class Ladder:
    game: str
    title: str
    paused: bool  # on its own, or with every game's
    by_all: bool  # paused because every game's ladder is


@dataclass(frozen=True)
class QueuedMatch:
    match: Match
    agents: list[Agent | None]
    origin: str | None


@dataclass(frozen=True)
class Executors:
    """The executors this server dispatches to, as last heard; ``dispatching`` False when
    matches are not dispatched by this server (then nothing is known of them)."""

    dispatching: bool
    executors: list[ExecutorHealth]


@dataclass(frozen=True)
class AdminPage:
    users: Sequence[User]
    users_total: int
    ladders: list[Ladder]
    builds: Sequence[Submission]
    matches: list[QueuedMatch]
    executors: Executors
    tournaments: Sequence[Tournament]
    games: list[tuple[str, str]]  # (id, title), for the tournament form
    formats: tuple[tuple[str, str], ...] = FORMATS
    # What the forms were sent with, when one comes back with an error.
    form: dict[str, Any] = field(default_factory=dict)


def ladders(session: Session) -> list[Ladder]:
    paused = LadderService(session).paused()
    games = sorted(known_games().values(), key=lambda g: g.title.lower())
    return [
        Ladder(g.id, g.title, paused.all_paused or g.id in paused.paused_games, paused.all_paused)
        for g in games
    ]


def build_queue(session: Session) -> Sequence[Submission]:
    return BuildQueue(session).lineup(QUEUE_SHOWN)


def match_queue(session: Session, settings: Settings) -> list[QueuedMatch]:
    rows = MatchService(session, settings).in_queue(QUEUE_SHOWN)
    agents = AgentService(session).many({p.agent_id for m in rows for p in m.players})
    return [QueuedMatch(m, [agents.get(p.agent_id) for p in m.players], origin_of(m)) for m in rows]


def executors(state: Any, settings: Settings) -> Executors:
    """From the running dispatcher (``app.state.matches``), if this server runs one."""
    running = getattr(state, "matches", None)
    if running is None:
        return Executors(False, [ExecutorHealth(a, embedded=False) for a in settings.executors])
    found: list[ExecutorHealth] = running.executors()
    return Executors(True, found)


def admin_page(
    session: Session, settings: Settings, state: Any, form: dict[str, Any] | None = None
) -> AdminPage:
    users, total = AccountService(session).list_users(limit=USERS_SHOWN)
    tournaments, _ = TournamentService(session, settings).page(limit=TOURNAMENTS_SHOWN, offset=0)
    games = sorted(known_games().values(), key=lambda g: g.title.lower())
    return AdminPage(
        users=users,
        users_total=total,
        ladders=ladders(session),
        builds=build_queue(session),
        matches=match_queue(session, settings),
        executors=executors(state, settings),
        tournaments=tournaments,
        games=[(g.id, g.title) for g in games],
        form=form or {},
    )
