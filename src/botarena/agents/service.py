"""Rules about agents and submissions: who may do what, and every status change.

Each public method is one unit of work: it checks, writes and commits, or raises and writes
nothing.
"""

from __future__ import annotations

import re
from collections.abc import Collection, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from typing import BinaryIO

from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session
from sqlalchemy.orm.exc import StaleDataError

from botarena.accounts.models import User
from botarena.agents.downloads import SourceFile, source_file
from botarena.agents.models import Agent, Submission, SubmissionStatusEvent, artifact_warnings
from botarena.agents.refs import ref_problem
from botarena.agents.repository import AgentRepository, SubmissionRepository
from botarena.agents.schemas import AGENT_NAME
from botarena.agents.status import INITIAL_STATUS, SubmissionStatus, check_transition
from botarena.clock import utcnow
from botarena.competitions import phases
from botarena.competitions.models import INVITE_ONLY, Competition
from botarena.competitions.phases import check_daily_limit, check_may_take_part
from botarena.competitions.repository import CompetitionRepository
from botarena.errors import AppError, conflict, forbidden, invalid, not_found, too_large
from botarena.games.registry import known_games
from botarena.ids import new_id
from botarena.settings import Settings
from botarena.sources.archives import (
    PACKED_NAME,
    ArchiveError,
    ArchiveLimits,
    ArchiveTooLargeError,
    pack_sent_folder,
    store_archive,
)
from botarena.sources.urls import SourceUrlError, validate_code_url
from botarena.storage import build_log_path, read_tail
from botarena.teams.models import Team
from botarena.teams.repository import TeamRepository
from botarena.teams.service import is_member

AGENT_NAME_PATTERN = re.compile(AGENT_NAME)


@dataclass(frozen=True)
class BuildStatusView:
    """A submission with what the build status shows beside it."""

    submission: Submission
    queue_position: int | None
    history: Sequence[SubmissionStatusEvent]


@dataclass(frozen=True)
class BuildSummary:
    """What the API's build status shows, read without the ORM (the API's most polled read)."""

    submission_id: str
    status: str
    build_job_name: str | None
    build_pod_name: str | None
    docker_image_url: str | None
    error_message: str | None
    warnings: list[str]
    queue_position: int | None
    history: list[tuple[str, datetime]]  # (status, when), oldest first
    created_at: datetime
    updated_at: datetime


@dataclass(frozen=True)
class TimelineEntry:
    """One status a submission of an agent entered."""

    at: datetime
    submission_id: str
    version: int
    status: str
    reason: str | None


class AgentService:
    """Creating and reading agents."""

    def __init__(self, session: Session) -> None:
        self.session = session
        self.agents = AgentRepository(session)

    def create(
        self, owner: User, name: str, game: str | None, competition_ref: str | None = None
    ) -> Agent:
        """A new agent of ``owner``'s team in the competition (by id or slug; else the game's
        default one): the game must be the competition's, or left out."""
        if not AGENT_NAME_PATTERN.fullmatch(name):
            raise invalid(
                "name",
                "Agent name must be 1 to 64 letters, digits, '.', '_' or '-', "
                "starting with a letter or digit",
            )
        competition = self._competition(owner, game, competition_ref)
        game = competition.game
        if self.agents.by_name(name) is not None:
            raise conflict(f"Agent name {name} is already taken")
        team = TeamRepository(self.session).team_for(competition.id, owner)
        agent = Agent(
            id=new_id("agt"),
            name=name,
            name_key=name.lower(),
            game=game,
            competition_id=competition.id,
            team_id=team.id,
            owner_id=owner.id,
            created_at=utcnow(),
            submission_count=0,
        )
        try:
            self.agents.add(agent)
        except IntegrityError as exc:  # the same name created concurrently
            self.session.rollback()
            raise conflict(f"Agent name {name} is already taken") from exc
        self.session.commit()
        return agent

    def _competition(
        self, owner: User, game: str | None, competition_ref: str | None
    ) -> Competition:
        """The competition a new agent goes to, checked: open, the caller allowed in."""
        games = known_games()
        if game is not None and game not in games:
            raise invalid("game", f"Unknown game '{game}'; known games: {', '.join(sorted(games))}")
        if competition_ref is None:
            if game is None:
                raise invalid("game", "A new agent needs its game or its competition")
            return CompetitionRepository(self.session).default_for(game)
        competition = CompetitionRepository(self.session).by_ref(competition_ref)
        if competition is None:
            raise not_found(f"Competition {competition_ref} not found")
        if game is not None and game != competition.game:
            raise invalid(
                "game", f"Competition {competition.title} plays {competition.game}, not {game}"
            )
        check_may_take_part(competition, "new agents")
        in_it = TeamRepository(self.session).of_user(competition.id, owner.id) is not None
        if competition.visibility == INVITE_ONLY and not in_it and not owner.is_admin:
            raise forbidden(f"Join competition {competition.title} with its code first")
        return competition

    def page(
        self,
        *,
        limit: int,
        offset: int,
        name: str | None = None,
        game: str | None = None,
        owner_id: str | None = None,
    ) -> tuple[Sequence[Agent], int]:
        return self.agents.page(limit=limit, offset=offset, name=name, game=game, owner_id=owner_id)

    def get(self, agent_id: str) -> Agent:
        agent = self.agents.get(agent_id)
        if agent is None:
            raise not_found("Agent not found")
        return agent

    def many(self, agent_ids: Collection[str]) -> dict[str, Agent]:
        """The agents of ``agent_ids`` that exist, by id (to name the players of matches)."""
        return self.agents.many(agent_ids)

    def timeline(self, agent_id: str, limit: int = 50) -> list[TimelineEntry]:
        """The agent's newest submission status changes, newest first; 404 for no agent."""
        agent = self.get(agent_id)
        rows = SubmissionRepository(self.session).agent_timeline(agent.id, limit)
        return [
            TimelineEntry(e.at, e.submission_id, version, e.status, e.reason) for e, version in rows
        ]


class SubmissionService:
    """Creating submissions and moving them through their statuses."""

    def __init__(self, session: Session, settings: Settings) -> None:
        self.session = session
        self.settings = settings
        self.agents = AgentRepository(session)
        self.submissions = SubmissionRepository(session)

    def get(self, submission_id: str) -> Submission:
        submission = self.submissions.get(submission_id)
        if submission is None:
            raise not_found("Submission not found")
        return submission

    def create_from_url(
        self, user: User, agent_id: str, code_url: str, ref: str | None
    ) -> Submission:
        """A new pending submission of the code at ``code_url`` (checked, never fetched here)."""
        agent = self._agent_to_submit_to(user, agent_id)
        self._check_competition_allows(agent)
        try:
            checked = validate_code_url(
                code_url,
                allow_http=self.settings.git_allow_http,
                allow_hosts=self.settings.git_allow_hosts,
            )
        except SourceUrlError as exc:
            raise invalid("codeUrl", str(exc)) from exc
        if ref is not None and (problem := ref_problem(ref)) is not None:
            raise invalid("ref", problem)
        return self._create(agent, code_url=checked.url, ref=ref)

    def create_from_archive(
        self, user: User, agent_id: str, upload: BinaryIO, filename: str | None
    ) -> Submission:
        """A new pending submission of an uploaded archive, stored by its content."""
        agent = self._agent_to_submit_to(user, agent_id)
        self._check_competition_allows(agent)
        try:
            stored = store_archive(upload, filename, self._limits(), self.settings.archive_dir)
        except ArchiveTooLargeError as exc:
            raise too_large(str(exc)) from exc
        except ArchiveError as exc:
            error = AppError(str(exc), "The archive was not stored.", [], 400)
            raise error from exc
        return self._create(agent, archive_sha256=stored.sha256, archive_format=stored.format)

    def create_from_folder(
        self, user: User, agent_id: str, files: Sequence[tuple[str, BinaryIO]]
    ) -> Submission:
        """A new pending submission of a folder sent file by file (a browser's folder upload:
        each name a path under one top folder), packed and then stored as an archive is."""
        self._check_competition_allows(self._agent_to_submit_to(user, agent_id))
        try:
            packed = pack_sent_folder(files, self._limits())
        except ArchiveError as exc:
            raise AppError(str(exc), "Nothing was stored.", [], 400) from exc
        return self.create_from_archive(user, agent_id, packed, PACKED_NAME)

    def _check_competition_allows(self, agent: Agent) -> None:
        """Refuse a submission its competition's phase or its team's daily limit refuses."""
        competition = CompetitionRepository(self.session).get(agent.competition_id)
        if competition is None or competition.is_default:
            return
        at = phases.now()
        check_may_take_part(competition, "submissions", at)
        if agent.team_id is not None:
            # The team's row locked first: two submissions at once count one after the other.
            self.session.get(Team, agent.team_id, with_for_update=True)
            used = self.submissions.count_for_team_since(agent.team_id, phases.day_start(at))
            check_daily_limit(competition, used, at)

    def _limits(self) -> ArchiveLimits:
        return ArchiveLimits(
            max_bytes=self.settings.archive_max_bytes,
            max_files=self.settings.archive_max_files,
            max_unpacked_bytes=self.settings.archive_max_unpacked_bytes,
        )

    def page(
        self,
        *,
        limit: int,
        offset: int,
        status: SubmissionStatus | None,
        agent_id: str | None,
    ) -> tuple[Sequence[Submission], int]:
        return self.submissions.page(limit=limit, offset=offset, status=status, agent_id=agent_id)

    def build_status(self, submission_id: str) -> BuildStatusView:
        submission = self.submissions.with_history(submission_id)
        if submission is None:
            raise not_found("Submission not found")
        return BuildStatusView(
            submission, self.submissions.queue_position(submission), submission.status_events
        )

    def build_summary(self, submission_id: str) -> BuildSummary:
        """:meth:`build_status` as plain values, in one statement."""
        found = self.submissions.status_with_history(submission_id)
        if found is None:
            raise not_found("Submission not found")
        row, history = found
        return BuildSummary(
            submission_id=row.id,
            status=row.status,
            build_job_name=row.build_job_name,
            build_pod_name=row.build_pod_name,
            docker_image_url=row.docker_image_url,
            error_message=row.error_message,
            warnings=artifact_warnings(row.artifact),
            queue_position=row.queue_position,
            history=history,
            created_at=row.created_at,
            updated_at=row.updated_at,
        )

    def build_log(self, user: User | None, submission_id: str) -> tuple[Submission, str]:
        """The submission whose log ``user`` may read; 404 alike for no log and not yours."""
        submission = self.submissions.get(submission_id)
        unavailable = not_found(
            "Build logs not available",
            "Logs may not be available yet or build has not started",
        )
        if submission is None or not may_see_private(user, submission.agent):
            raise unavailable
        text = submission.build_log
        if submission.status == SubmissionStatus.BUILDING.value:
            # While it builds, what the log file holds so far.
            text = read_tail(build_log_path(self.settings, submission.id)) or text
        if text is None:
            raise unavailable
        return submission, text

    def activate(self, user: User, submission_id: str) -> Submission:
        """Make a submission its agent's active one; the previous active one turns inactive."""
        submission = self._own_submission(user, submission_id)
        if submission.current_status == SubmissionStatus.ACTIVE:
            return submission
        previous = self.submissions.active_for_agent(submission.agent_id)
        # Checked first, so that a refused activation leaves the previous one active.
        check_transition(submission.current_status, SubmissionStatus.ACTIVE)
        now = utcnow()
        with self._race_safe():
            if previous is not None:
                previous.move_to(
                    SubmissionStatus.INACTIVE, reason=f"replaced by {submission.id}", at=now
                )
                # Written first: the database allows one active submission per agent.
                self.session.flush()
            submission.move_to(
                SubmissionStatus.ACTIVE, reason=f"activated by {user.username}", at=now
            )
            self.session.commit()
        return submission

    def deactivate(self, user: User, submission_id: str) -> Submission:
        submission = self._own_submission(user, submission_id)
        with self._race_safe():
            submission.move_to(SubmissionStatus.INACTIVE, reason=f"deactivated by {user.username}")
            self.session.commit()
        return submission

    def source(self, user: User | None, submission_id: str) -> SourceFile:
        """The submission's source as one archive (see :mod:`botarena.agents.downloads`), for
        those :func:`may_download_submission` lets download it."""
        submission = self.get(submission_id)
        if not may_download_submission(user, submission):
            raise forbidden("Only the members of the agent's team and admins may download its code")
        return source_file(self.settings, submission)

    def _agent_to_submit_to(self, user: User, agent_id: str) -> Agent:
        agent = self.agents.get(agent_id)
        if agent is None:
            raise not_found("Agent not found")
        if not may_see_private(user, agent):
            raise forbidden("Only the members of the agent's team can submit to it")
        return agent

    def _own_submission(self, user: User, submission_id: str) -> Submission:
        submission = self.get(submission_id)
        if not may_see_private(user, submission.agent):
            raise forbidden("Only the members of the agent's team can change its submissions")
        return submission

    def _create(
        self,
        agent: Agent,
        *,
        code_url: str | None = None,
        ref: str | None = None,
        archive_sha256: str | None = None,
        archive_format: str | None = None,
    ) -> Submission:
        now = utcnow()
        submission = Submission(
            id=new_id("sub"),
            agent_id=agent.id,
            version=self.agents.next_version(agent.id),
            status=INITIAL_STATUS.value,
            code_url=code_url,
            ref=ref,
            archive_sha256=archive_sha256,
            archive_format=archive_format,
            priority=0,
            attempts=0,
            created_at=now,
            updated_at=now,
        )
        submission.status_events.append(
            SubmissionStatusEvent(status=INITIAL_STATUS.value, at=now, reason="submitted")
        )
        self.submissions.add(submission)
        self.session.commit()
        return submission

    @contextmanager
    def _race_safe(self) -> Iterator[None]:
        """Turn a lost race with a concurrent request into a clean 409, with nothing written."""
        try:
            yield
        except (StaleDataError, IntegrityError) as exc:
            self.session.rollback()
            raise conflict(
                "Submission was changed by another request", "Reload it and try again."
            ) from exc


def may_read_build_log(session: Session, user: User | None, submission_id: str) -> bool:
    """Whether ``user`` may read the submission's build log; 404 when there is no such one."""
    submission = SubmissionRepository(session).get(submission_id)
    if submission is None:
        raise not_found("Submission not found")
    return may_see_private(user, submission.agent)


def may_see_private(user: User | None, agent: Agent) -> bool:
    """Whether ``user`` may act for the agent (submit, activate, rebuild, challenge) and read
    what is private to it (build and match logs, where its source lives): admins and the
    members of its team. An agent without a team (none since the migration gave every agent
    one) is its creator's."""
    return user is not None and (user.is_admin or in_agents_team(user, agent))


def in_agents_team(user: User, agent: Agent) -> bool:
    """Whether ``user`` is a member of the agent's team (admins or not)."""
    if agent.team_id is None:
        return agent.owner_id == user.id
    return is_member(user, agent.team)


def may_download_submission(user: User | None, submission: Submission) -> bool:
    """Whether ``user`` may download the submission's code (its source, for ``botarena
    rerun``): admins, and the members of its agent's team. The one place this rule lives: the
    source download and the rerun of a match (which needs both players' code) both ask it."""
    return may_see_private(user, submission.agent)
