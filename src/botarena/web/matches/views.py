"""What a match's page and the list of matches show, read through the match service: the
result in words (the replay viewer's own sentence when there is a replay), each seat's outcome,
and each agent's log only where the service's rule lets the viewer read it."""

from __future__ import annotations

import json
import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy.orm import Session

from botarena.accounts.models import User
from botarena.agents.models import Agent
from botarena.agents.service import AgentService
from botarena.errors import AppError, bad_request, not_found
from botarena.games.registry import UnknownGameError, get_game, is_known_game, known_games
from botarena.games.replay_view import ReplayViewError, build_view, display_names
from botarena.matches.models import Match, MatchStatusEvent, seat_places
from botarena.matches.reruns import may_rerun
from botarena.matches.service import MatchService, may_cancel
from botarena.matches.status import ENDED, MatchState
from botarena.ratings.history import PlayerChange
from botarena.ratings.service import RatingService
from botarena.settings import Settings
from botarena.web.agents.buildlog import clean_line
from botarena.web.views import MatchRow

PAGE_SIZE = 25
RANKED = {"": None, "yes": True, "no": False}
# How an agent's outcome reads (the referee's AgentStatus values, as the match recorded them).
OUTCOMES = {
    "DONE": "played to the end",
    "TIMEOUT": "ran out of time",
    "ERROR": "crashed",
    "INVALID": "made an illegal move",
}


@dataclass(frozen=True)
class Seat:
    player: int
    agent: Agent | None
    name: str
    outcome: str | None
    reason: str | None
    # The agent's log, for its owner and admins; None when not theirs to read.
    log: list[str] | None
    log_note: str | None  # why a log the viewer may read is not shown
    rating: PlayerChange | None = None  # its rating change, for a finished ranked match
    place: int | None = None  # 1 the best, equal for a tie; None until the match finished

    @property
    def outcome_text(self) -> str:
        if self.outcome is None:
            return "not yet known"
        return OUTCOMES.get(self.outcome.upper(), self.outcome.lower())


@dataclass(frozen=True)
class MatchPage:
    match: Match
    title: str
    queue_position: int | None
    seats: list[Seat]
    result: str
    history: Sequence[MatchStatusEvent]
    view: dict[str, Any] | None  # the replay viewer's data; None without a replay
    download_url: str
    may_cancel: bool = False  # the viewer is its creator or an admin, and it has not ended
    may_rerun: bool = False  # the viewer may play it again on their machine (botarena rerun)

    @property
    def rated(self) -> bool:
        """Whether the match changed ratings (a finished ranked one)."""
        return any(seat.rating is not None for seat in self.seats)

    @property
    def ended(self) -> bool:
        return self.match.status in ENDED

    @property
    def free_for_all(self) -> bool:
        """More than two seats: the page shows each one's place."""
        return len(self.seats) > 2


@dataclass(frozen=True)
class Filters:
    game: str = ""
    agent: str = ""
    status: str = ""
    ranked: str = ""

    def query(self, page: int | None = None) -> dict[str, object]:
        """The list's query string for these filters (and a page)."""
        found = {k: v for k, v in vars(self).items() if v}
        return {**found, "page": page} if page else found


@dataclass(frozen=True)
class MatchList:
    filters: Filters
    games: list[tuple[str, str]]  # (id, title)
    statuses: list[str]
    rows: list[MatchRow]
    page: int
    pages: int
    total: int


def match_page(
    session: Session, settings: Settings, viewer: User | None, match_id: str
) -> MatchPage:
    """404 for no such match."""
    service = MatchService(session, settings)
    shown = service.view(match_id)
    match = shown.match
    agents = AgentService(session).many({p.agent_id for p in match.players})
    players = sorted(match.players, key=lambda p: p.player)
    names = [a.name if (a := agents.get(p.agent_id)) else "" for p in players]
    changes = {c.player: c for c in RatingService(session).changes_for_match(match.id)}
    view = _view(service, match, names)
    places = seat_places(match) or []
    shown_names = [p["name"] for p in view["players"]] if view else names
    seats = [
        Seat(
            p.player,
            agents.get(p.agent_id),
            shown_names[p.player] if p.player < len(shown_names) else "",
            p.outcome,
            p.reason,
            *_log(service, viewer, match.id, p.player),
            rating=changes.get(p.player),
            place=places[p.player] if p.player < len(places) else None,
        )
        for p in players
    ]
    title = known_games()[match.game].title if is_known_game(match.game) else match.game
    return MatchPage(
        match,
        title,
        shown.queue_position,
        seats,
        view["result"]["text"] if view else _result(match, shown_names),
        sorted(match.status_events, key=lambda e: e.id),
        view,
        f"/api/v1/matches/{match.id}/replay",
        may_cancel(viewer, match),
        may_rerun(session, viewer, match),
    )


def _view(service: MatchService, match: Match, names: list[str]) -> dict[str, Any] | None:
    """The viewer's data; None without a replay, or for a game no longer installed."""
    try:
        path = service.replay(match.id)
        game = get_game(match.game)
        replay = json.loads(path.read_text(encoding="utf-8"))
        return build_view(game, replay, display_names(game, names, len(names)))
    except (AppError, UnknownGameError, ReplayViewError, ValueError):
        return None


def _log(
    service: MatchService, viewer: User | None, match_id: str, player: int
) -> tuple[list[str] | None, str | None]:
    """The service's rule decides: its owner and admins read it, others see nothing of it."""
    try:
        text = service.agent_log(viewer, match_id, player)
    except AppError as exc:
        if exc.status_code == 404:
            return [], "No log kept for this match yet."
        return None, None
    return [clean_line(line) for line in text.splitlines()], None


def _result(match: Match, names: list[str]) -> str:
    """The result in words when there is no replay to say it."""
    if match.status == MatchState.FINISHED.value:
        places = seat_places(match) or []
        if len(places) > 2:
            order = sorted(range(len(places)), key=lambda p: (places[p], p))
            named = [f"{places[p]}. {names[p] if p < len(names) else ''}" for p in order]
            return "Places: " + ", ".join(named) + "."
        if match.winner is None:
            return "The match ended in a draw."
        name = names[match.winner] if match.winner < len(names) else ""
        return f"{name or f'Player {match.winner + 1}'} wins."
    if match.status == MatchState.ERROR.value:
        return f"The match failed: {match.error}" if match.error else "The match failed."
    if match.status == MatchState.CANCELLED.value:
        return "The match was cancelled."
    return f"Not finished yet: the match is {match.status}."


def match_list(session: Session, settings: Settings, filters: Filters, page: int) -> MatchList:
    """One page of the matches that pass the filters; 400 for a filter that names nothing
    known, 404 for a page past the end."""
    games = sorted(((g, info.title) for g, info in known_games().items()), key=lambda g: g[1])
    statuses = [s.value for s in MatchState]
    if filters.game and not is_known_game(filters.game):
        raise bad_request(f"No game named {filters.game}", "Choose a game from the list.", "game")
    if filters.status and filters.status not in statuses:
        raise bad_request(f"No match status {filters.status}", "Choose a status.", "status")
    if filters.ranked not in RANKED:
        raise bad_request("Ranked is yes, no or empty", field_name="ranked")
    rows, total = MatchService(session, settings).page(
        limit=PAGE_SIZE,
        offset=(page - 1) * PAGE_SIZE,
        agent_id=filters.agent or None,
        game=filters.game or None,
        status=filters.status or None,
        ranked=RANKED[filters.ranked],
    )
    pages = max(1, math.ceil(total / PAGE_SIZE))
    if page > pages:
        raise not_found(f"No page {page} of these matches", f"There are {pages} page(s).")
    agents = AgentService(session).many({p.agent_id for m in rows for p in m.players})
    listed = [MatchRow(m, [agents.get(p.agent_id) for p in m.players]) for m in rows]
    return MatchList(filters, games, statuses, listed, page, pages, total)
