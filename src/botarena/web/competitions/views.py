"""What the competitions' pages show, read through the services the API uses: the list with
each one's phase and the next date, a competition's overview (its rendered description,
dates, limits, the viewer's team and what it may still submit today, its leaderboard or
frozen standings, the final selection), and the admin's form."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from botarena.accounts.models import User
from botarena.agents.models import Agent, Submission
from botarena.agents.repository import SubmissionRepository
from botarena.agents.selection import SELECTABLE, SelectionService, TeamSelection
from botarena.competitions import phases
from botarena.competitions.membership import Membership
from botarena.competitions.models import Competition
from botarena.competitions.presenters import present
from botarena.competitions.schemas import CompetitionOut
from botarena.competitions.service import CompetitionService
from botarena.finals.service import Board, FinalsService
from botarena.games.registry import get_game, known_games
from botarena.settings import Settings
from botarena.teams.models import Team
from botarena.teams.repository import TeamRepository

# The form's date fields, as the browser's datetime-local inputs send them (read as UTC).
FORM_DATES = ("opens_at", "deadline_at", "final_ends_at")
LOCAL_FORMAT = "%Y-%m-%dT%H:%M"


def countdown(moment: datetime | None, now: datetime) -> str:
    """``moment`` from ``now`` in words: "in 3 days 4 h", "in 12 min"."""
    if moment is None:
        return ""
    left = moment - now
    if left <= timedelta(0):
        return "now"
    days, rest = divmod(int(left.total_seconds()), 86400)
    hours, rest = divmod(rest, 3600)
    minutes = rest // 60
    if days:
        return f"in {days} day{'s' if days != 1 else ''} {hours} h"
    if hours:
        return f"in {hours} h {minutes} min"
    return f"in {max(minutes, 1)} min"


@dataclass(frozen=True)
class ListedCompetition:
    shown: CompetitionOut
    countdown: str


def competition_list(
    session: Session, viewer: User | None, membership: Membership
) -> list[ListedCompetition]:
    mine = membership.competitions_of(viewer.id) if viewer is not None else set()
    now = phases.now()
    return [
        ListedCompetition(shown := present(c, c.id in mine), countdown(shown.next_date, now))
        for c in CompetitionService(session).listed(viewer, membership)
    ]


@dataclass(frozen=True)
class Choice:
    """A submission the viewer's team may select for the final."""

    submission_id: str
    agent_name: str
    version: int
    status: str
    selected: bool


@dataclass(frozen=True)
class TeamView:
    team: Team
    remaining_today: int | None
    resets_at: datetime
    selection: TeamSelection | None
    choices: list[Choice]


@dataclass(frozen=True)
class CompetitionPage:
    competition: Competition
    shown: CompetitionOut
    countdown: str
    board: Board
    team: TeamView | None
    may_select: bool
    may_start_final: bool
    may_freeze: bool
    # Players at a table of the final evaluation: a free-for-all for games of more than two.
    final_table_size: int


def competition_page(
    session: Session, settings: Settings, viewer: User | None, ref: str
) -> CompetitionPage:
    """404 for no such competition."""
    competition = CompetitionService(session).get(ref)
    now = phases.now()
    phase = phases.phase_of(competition, now)
    team = (
        TeamRepository(session).of_user(competition.id, viewer.id) if viewer is not None else None
    )
    shown = present(competition, team is not None)
    board = FinalsService(session, settings).board(competition.id)
    team_view = None
    if team is not None and viewer is not None:
        used = SubmissionRepository(session).count_for_team_since(team.id, phases.day_start(now))
        selection = (
            SelectionService(session).of(viewer, competition)
            if not competition.is_default
            else None
        )
        team_view = TeamView(
            team=team,
            remaining_today=phases.remaining_today(competition, used),
            resets_at=phases.next_reset(now),
            selection=selection,
            choices=_choices(session, team.id, selection),
        )
    admin = viewer is not None and viewer.is_admin and not competition.is_default
    return CompetitionPage(
        competition=competition,
        shown=shown,
        countdown=countdown(shown.next_date, now),
        board=board,
        team=team_view,
        may_select=not competition.is_default and phase in (phases.Phase.OPEN, phases.Phase.CLOSED),
        may_start_final=admin and phase == phases.Phase.CLOSED,
        may_freeze=admin and competition.frozen_at is None,
        final_table_size=get_game(competition.game).players,
    )


def _choices(session: Session, team_id: str, selection: TeamSelection | None) -> list[Choice]:
    chosen = set(selection.effective if selection is not None else [])
    rows = session.execute(
        select(Submission.id, Agent.name, Submission.version, Submission.status)
        .join(Agent, Agent.id == Submission.agent_id)
        .where(Agent.team_id == team_id, Submission.status.in_(SELECTABLE))
        .order_by(Submission.created_at.desc())
    ).all()
    return [
        Choice(sid, name, version, status, sid in chosen) for sid, name, version, status in rows
    ]


def games() -> list[tuple[str, str]]:
    return sorted(((g.id, g.title) for g in known_games().values()), key=lambda g: g[1].lower())


def form_of(competition: Competition | None) -> dict[str, Any]:
    """The form's values for an existing competition (or a new one's defaults)."""
    if competition is None:
        return {"daily_submission_limit": "5", "final_submissions_per_team": "2"}
    shown = present(competition, False)
    values: dict[str, Any] = {
        "title": shown.title,
        "description": shown.description,
        "game": shown.game,
        "visibility": shown.visibility,
        "daily_submission_limit": _text(shown.daily_submission_limit),
        "final_submissions_per_team": _text(shown.final_submissions_per_team),
        "max_team_size": _text(shown.max_team_size),
        "configuration": _configuration_text(shown.configuration),
    }
    for name in FORM_DATES:
        moment = getattr(shown, name)
        values[name] = moment.strftime(LOCAL_FORMAT) if moment is not None else ""
    return values


def _text(value: int | None) -> str:
    return "" if value is None else str(value)


def _configuration_text(configuration: dict[str, Any]) -> str:
    return json.dumps(configuration, sort_keys=True) if configuration else ""
