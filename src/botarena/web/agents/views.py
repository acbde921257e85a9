"""What an agent's page and a submission's page show, read through the services the API
uses; the build log only for those who may read it (the agent's team and admins)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy.orm import Session

from botarena.accounts.models import User
from botarena.agents.models import Agent, Submission, SubmissionStatusEvent
from botarena.agents.presenters import present
from botarena.agents.schemas import SubmissionOut
from botarena.agents.service import (
    AgentService,
    SubmissionService,
    TimelineEntry,
    may_see_private,
)
from botarena.builds.events import Cursor
from botarena.builds.feed import IN_PROGRESS
from botarena.builds.logfile import last_line_end
from botarena.errors import AppError
from botarena.games.registry import known_games
from botarena.matches.service import MatchService, ScrimmageQuota
from botarena.ratings.history import Point
from botarena.ratings.service import ListedAgent, RatingService, Record, Standing
from botarena.settings import Settings
from botarena.storage import CUT_MARKER, STORED_LOG_BYTES, build_log_path
from botarena.web.agents.buildlog import Failure, clean_line, failure_of
from botarena.web.agents.validation import ValidationMatch, validation_match
from botarena.web.charts import Chart, Sample, rating_chart
from botarena.web.views import MatchRow

RECENT_MATCHES = 10
TIMELINE_ENTRIES = 30
HISTORY_ROWS = 50  # the rating table's latest matches; the chart shows them all
# What the owner may do to a submission in which statuses (as the status machine allows).
ACTIONS = (
    ("activate", "Activate", frozenset({"success", "inactive"})),
    ("deactivate", "Deactivate", frozenset({"active"})),
    ("rebuild", "Rebuild", frozenset({"success", "build_failed", "failed", "inactive"})),
)


@dataclass(frozen=True)
class BuildState:
    """Where a build stands: what anyone may see of it."""

    submission: Submission
    agent: Agent
    queue_position: int | None
    history: Sequence[SubmissionStatusEvent]
    failure: Failure | None
    warnings: list[str]

    @property
    def in_progress(self) -> bool:
        return self.submission.status in IN_PROGRESS


@dataclass(frozen=True)
class SubmissionPage:
    build: BuildState
    shown: SubmissionOut  # the code URL and ref only for the owner and admins
    log: list[str] | None  # None: not the viewer's to read
    # Where the live stream goes on from: after the statuses and log lines shown.
    cursor: str
    validation: ValidationMatch | None


@dataclass(frozen=True)
class AgentPage:
    agent: Agent
    game_title: str
    submissions: list[Submission]
    standing: Standing | None
    records: list[Record]
    recent: list[MatchRow]
    owner_view: bool  # the owner or an admin: the actions on submissions
    # For the owner's challenge form: the other active agents of the game, and how many
    # unranked matches the viewer may still start (None when not the owner's view).
    opponents: list[ListedAgent]
    quota: ScrimmageQuota | None
    chart: Chart  # the rating over every ranked match
    history: list[Point]  # the latest ranked matches, newest first, for the table
    history_total: int
    timeline: list[TimelineEntry]  # the submissions' newest status changes, newest first

    def actions_for(self, submission: Submission) -> list[tuple[str, str]]:
        """The owner's actions a submission's status allows: (path part, button label)."""
        if not self.owner_view:
            return []
        return [(a, label) for a, label, among in ACTIONS if submission.status in among]


def build_state(session: Session, settings: Settings, submission_id: str) -> BuildState:
    """404 for no such submission."""
    view = SubmissionService(session, settings).build_status(submission_id)
    sub = view.submission
    return BuildState(
        sub,
        sub.agent,
        view.queue_position,
        sorted(view.history, key=lambda e: e.id),
        failure_of(sub.error_message),
        [clean_line(w) for w in sub.build_warnings],
    )


def submission_page(
    session: Session, settings: Settings, viewer: User | None, submission_id: str
) -> SubmissionPage:
    build = build_state(session, settings, submission_id)
    sub = build.submission
    status_id = max((e.id for e in build.history), default=0)
    log: list[str] | None = None
    offset = 0
    private = may_see_private(viewer, build.agent)
    if private:
        if build.in_progress:
            # The lines written so far; the stream sends those after them.
            offset = last_line_end(build_log_path(settings, sub.id))
            log = _lines(build_log_path(settings, sub.id), offset)
        else:
            log = _stored_log(session, settings, viewer, sub.id)
    validation = validation_match(settings, sub, private=private)
    return SubmissionPage(
        build, present(sub, viewer), log, str(Cursor(status_id, offset)), validation
    )


def _stored_log(
    session: Session, settings: Settings, viewer: User | None, submission_id: str
) -> list[str]:
    try:
        _sub, text = SubmissionService(session, settings).build_log(viewer, submission_id)
    except AppError:
        return []  # no log yet (or none kept)
    return [clean_line(line) for line in text.splitlines()]


def _lines(path: Path, end: int) -> list[str]:
    """The whole lines of the log up to ``end``, its last mebibyte only."""
    start = max(0, end - STORED_LOG_BYTES)
    try:
        with path.open("rb") as handle:
            handle.seek(start)
            data = handle.read(end - start)
    except FileNotFoundError:
        return []
    prefix: list[str] = []
    if start > 0:
        data = data[data.find(b"\n") + 1 :]  # from a whole line on
        prefix = [CUT_MARKER.strip()]
    text = data.decode("utf-8", errors="replace")
    return prefix + [clean_line(line) for line in text.splitlines()]


def agent_page(
    session: Session, settings: Settings, viewer: User | None, agent_id: str
) -> AgentPage:
    """404 for no such agent."""
    agent = AgentService(session).get(agent_id)
    ratings = RatingService(session)
    board = ratings.leaderboard(agent.game, agent.competition_id)  # its competition's active ones
    standing = next((s for s in board if s.agent.id == agent.id), None)
    owner_view = may_see_private(viewer, agent)
    opponents = sorted((s.agent for s in board if s.agent.id != agent.id), key=lambda a: a.name_key)
    service = MatchService(session, settings)
    quota = service.quota(viewer) if owner_view and viewer is not None else None
    matches, _total = service.page(limit=RECENT_MATCHES, offset=0, agent_id=agent.id)
    players = AgentService(session).many({p.agent_id for m in matches for p in m.players})
    recent = [MatchRow(m, [players.get(p.agent_id) for p in m.players]) for m in matches]
    game = known_games().get(agent.game)
    points = ratings.history(agent.id)
    samples = [
        Sample(number, p.score_after, p.mu_after, p.sigma_after, p.version)
        for number, p in enumerate(points, start=1)
    ]
    return AgentPage(
        agent,
        game.title if game else agent.game,
        sorted(agent.submissions, key=lambda s: s.version, reverse=True),
        standing,
        ratings.head_to_head(agent.id),
        recent,
        owner_view,
        opponents if owner_view else [],
        quota,
        rating_chart(samples),
        points[::-1][:HISTORY_ROWS],
        len(points),
        AgentService(session).timeline(agent.id, TIMELINE_ENTRIES),
    )
