"""The demo: the example agents submitted by a demo admin, built, activated as their builds
succeed, and left to the ladder; used by ``botarena serve --demo`` and ``botarena demo``.

The examples live in the repository (``examples/agents``), not in the installed package: a
server installed without them starts its demo with no agents, and says so.
"""

from __future__ import annotations

import io
import threading
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import structlog
from sqlalchemy import func, select

from botarena.accounts.login_links import LoginLinkService
from botarena.accounts.repository import UserRepository
from botarena.accounts.service import AccountService
from botarena.accounts.tokens import DEFAULT_TOKEN_DAYS
from botarena.agents.models import Agent, Submission
from botarena.agents.service import AgentService, SubmissionService
from botarena.agents.status import SubmissionStatus
from botarena.audit.context import ActionContext
from botarena.audit.journal import AuditJournal
from botarena.db.engine import SessionFactory, session_scope
from botarena.matches.models import Match
from botarena.matches.status import MatchState
from botarena.ratings.models import Rating
from botarena.settings import Settings
from botarena.sources.archives import pack_folder
from botarena.workers import Workers

log = structlog.get_logger(__name__)

DEMO_USER = "demo"
DEMO_ACTOR = "system/demo"
DEMO_GAME = "connectx"
# Agents of known strength, weakest first; none needs a package installed.
DEMO_AGENTS = ("connectx-random", "executable-random", "connectx-greedy", "connectx-search")
EXAMPLES = Path(__file__).resolve().parents[2] / "examples" / "agents"
_POLL_SECONDS = 0.5


def demo_token(factory: SessionFactory, token_days: int = DEFAULT_TOKEN_DAYS) -> str:
    """A fresh token of the demo admin, created on first use (audited as ``system/demo``).

    It lasts like any other token (BOTARENA_TOKEN_DAYS): every start of the demo prints a new
    one, so no token that never expires is left behind by a demo."""
    with session_scope(factory) as session:
        journal = AuditJournal(ActionContext.system(DEMO_ACTOR))
        service = AccountService(session, journal=journal, token_days=token_days)
        user = UserRepository(session).by_username(DEMO_USER)
        if user is None:
            _user, issued = service.create_user(DEMO_USER, None, admin=True, label="demo")
        else:
            issued = service.issue_token(user, name="demo")
        return issued.secret


def demo_login_link(factory: SessionFactory, base_url: str) -> str:
    """A one-time login link for the demo admin under ``base_url`` (audited as
    ``system/demo``): for the person at the terminal, so it is printed and never logged."""
    with session_scope(factory) as session:
        user = UserRepository(session).by_username(DEMO_USER)
        assert user is not None, "create the demo user first"
        journal = AuditJournal(ActionContext.system(DEMO_ACTOR))
        return LoginLinkService(session, journal=journal).issue(user).url(base_url)


def submit_examples(factory: SessionFactory, settings: Settings) -> list[str]:
    """The demo admin's agents for the examples (made once), each with its example submitted
    when it has none yet; returns the submissions made."""
    made = []
    with session_scope(factory) as session:
        user = UserRepository(session).by_username(DEMO_USER)
        assert user is not None, "create the demo user first"
        for name in DEMO_AGENTS:
            folder = EXAMPLES / name
            if not folder.is_dir():
                log.warning("example agent missing; the demo goes without it", folder=str(folder))
                continue
            agent = session.scalar(select(Agent).where(Agent.name_key == name))
            if agent is None:
                agent = AgentService(session).create(user, name, DEMO_GAME)
            if agent.submission_count:
                continue
            archive = io.BytesIO()
            pack_folder(folder, archive)
            archive.seek(0)
            submission = SubmissionService(session, settings).create_from_archive(
                user, agent.id, archive, f"{name}.tar.gz"
            )
            made.append(submission.id)
    return made


class Activator(Workers):
    """Activates each demo submission as soon as its build succeeds (the ladder plays only
    active ones), until none is left building."""

    def __init__(self, factory: SessionFactory, settings: Settings) -> None:
        super().__init__()
        self.factory = factory
        self.settings = settings
        self.done = threading.Event()

    def start(self) -> None:
        self._spawn("demo-activator", self._run)

    def _run(self) -> None:
        while not self._stop.wait(_POLL_SECONDS):
            try:
                if self.pass_once() == 0:
                    self.done.set()
                    return
            except Exception:
                log.exception("activating the demo's submissions failed")

    def pass_once(self) -> int:
        """Activate what built; returns how many demo submissions are still being built."""
        with session_scope(self.factory) as session:
            user = UserRepository(session).by_username(DEMO_USER)
            if user is None:
                return 0
            rows = session.scalars(
                select(Submission).join(Agent).where(Agent.owner_id == user.id)
            ).all()
            waiting = 0
            for submission in rows:
                if submission.status == SubmissionStatus.SUCCESS.value:
                    SubmissionService(session, self.settings).activate(user, submission.id)
                    log.info("demo agent activated", agent=submission.agent.name)
                elif submission.status in (
                    SubmissionStatus.PENDING.value,
                    SubmissionStatus.BUILDING.value,
                ):
                    waiting += 1
            return waiting


@dataclass(frozen=True)
class DemoExample:
    """One example agent of the demo: its newest submission's status and its ranked games."""

    name: str
    status: str
    games: int
    error: str | None = None


def demo_examples(factory: SessionFactory) -> list[DemoExample]:
    """The demo admin's examples as they stand, in :data:`DEMO_AGENTS` order."""
    with session_scope(factory) as session:
        user = UserRepository(session).by_username(DEMO_USER)
        if user is None:
            return []
        rows = session.execute(
            select(Agent.name, Submission.status, Submission.error_message, Rating.games)
            .join(Submission, Submission.agent_id == Agent.id)
            .outerjoin(Rating, Rating.submission_id == Submission.id)
            .where(Agent.owner_id == user.id, Agent.name.in_(DEMO_AGENTS))
            .order_by(Submission.version)
        ).all()
    newest = {
        name: DemoExample(name, status, games or 0, error) for name, status, error, games in rows
    }
    return [newest[name] for name in DEMO_AGENTS if name in newest]


def ladder_matches_since(factory: SessionFactory, game: str, since: datetime) -> int:
    """Ranked matches of ``game`` created at or after ``since`` that finished: what the demo
    counts once every example is active, so no example misses the matches it counts."""
    with session_scope(factory) as session:
        return int(
            session.scalar(
                select(func.count())
                .select_from(Match)
                .where(
                    Match.game == game,
                    Match.ranked.is_(True),
                    Match.status == MatchState.FINISHED.value,
                    Match.created_at >= since,
                )
            )
            or 0
        )
