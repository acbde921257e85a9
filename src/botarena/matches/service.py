"""The rules of matches: which submission plays for an agent, creating, cancelling, reading,
and who may read an agent's log."""

from __future__ import annotations

import json
import math
import random
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import structlog
from sqlalchemy import case, func, select
from sqlalchemy.orm import Session, selectinload

from botarena.accounts.models import User
from botarena.agents.models import Agent, Submission
from botarena.agents.service import AgentService, may_see_private
from botarena.agents.status import SubmissionStatus
from botarena.audit.actions import Action
from botarena.audit.context import ActionContext
from botarena.audit.service import AuditLog
from botarena.clock import utcnow
from botarena.competitions.phases import check_may_play
from botarena.competitions.repository import CompetitionRepository
from botarena.db.paging import page_of
from botarena.errors import bad_request, conflict, forbidden, invalid, not_found, too_many
from botarena.games.base import GameConfigError
from botarena.games.registry import UnknownGameError, get_game
from botarena.ids import new_id
from botarena.matches.models import Match, MatchPlayer, MatchStatusEvent
from botarena.matches.queue import MatchQueue
from botarena.matches.status import ENDED, MatchState
from botarena.settings import Settings
from botarena.storage import match_dir

log = structlog.get_logger(__name__)


def seat_names(count: int) -> list[str]:
    """How messages and log lines name the seats: agent1, agent2, … (1-based)."""
    return [f"agent{seat}" for seat in range(1, count + 1)]


QUOTA_WINDOW = timedelta(hours=24)


@dataclass(frozen=True)
class MatchView:
    """A match with what is derived for showing it: its place in the queue."""

    match: Match
    queue_position: int | None


@dataclass(frozen=True)
class ScrimmageQuota:
    """A user's unranked matches: how many are left of ``per_day`` in the rolling 24 hours,
    and when none is, when the next frees up."""

    left: int
    per_day: int
    frees_at: datetime | None


class MatchService:
    """Creates and reads matches; each public method is one unit of work."""

    def __init__(self, session: Session, settings: Settings) -> None:
        self.session = session
        self.settings = settings

    def create(
        self,
        user: User,
        agent_ids: Sequence[str],
        *,
        game: str | None = None,
        seed: int | None = None,
        config: dict[str, Any] | None = None,
        ranked: bool = False,
        request_id: str | None = None,
    ) -> MatchView:
        """Queue a match; ``request_id`` (the request creating it) goes on its log lines. Its
        place in the queue is read in the same transaction (after the commit it would take
        the write lock again, on SQLite, only to count)."""
        if ranked and not user.is_admin:
            raise forbidden("Only admins may create ranked matches")
        if not ranked:
            self.check_quota(user)
        agents = [AgentService(self.session).get(agent_id) for agent_id in agent_ids]
        chosen_game = game or agents[0].game
        try:
            rules = get_game(chosen_game)
            rules.configure(config or {})
        except UnknownGameError as exc:
            raise invalid("game", exc.message) from exc
        except GameConfigError as exc:
            raise invalid("config", str(exc)) from exc
        try:
            rules.check_player_count(len(agents))
        except ValueError as exc:
            raise invalid("agentIds", str(exc)) from exc
        seats = seat_names(len(agents))
        for seat, agent in zip(seats, agents, strict=True):
            if agent.game != chosen_game:
                raise bad_request(f"{seat} plays {agent.game}, not {chosen_game}")
        submissions = [self.playing(seat, agent) for seat, agent in zip(seats, agents, strict=True)]
        match = self.add(
            chosen_game,
            list(zip(agents, submissions, strict=True)),
            seed=seed,
            config=config,
            ranked=ranked,
            creator=user,
            origin=f"created by {user.username}",
            request_id=request_id,
        )
        position = self._queue_position(match)
        self.session.commit()
        return MatchView(match, position)

    def cancel(self, user: User, match_id: str, context: ActionContext) -> Match:
        """Cancel a queued or running match (its creator or an admin; audited). A running
        one is stopped on its executor; it changes no rating, and a late result nothing."""
        match = self.session.get(Match, match_id, with_for_update=True)
        if match is None:
            raise not_found(f"Match {match_id} not found")
        if not user.is_admin and match.created_by != user.id:
            raise forbidden("Only the match's creator and admins may cancel it")
        if match.state in ENDED:
            raise conflict(
                f"Match {match_id} has ended already ({match.status})",
                "Only a queued or running match can be cancelled.",
            )
        was = match.status
        MatchQueue(self.session, self.settings).cancel(match, f"cancelled by {user.username}")
        AuditLog(self.session).record(
            context,
            Action.MATCH_CANCELLED,
            target_type="match",
            target_id=match_id,
            details={"status": was},
        )
        self.session.commit()
        log.info("match cancelled", match_id=match_id, was=was, by=user.username)
        return match

    def add(
        self,
        game: str,
        seats: list[tuple[Agent, Submission]],
        *,
        origin: str,
        seed: int | None = None,
        config: dict[str, Any] | None = None,
        ranked: bool = False,
        creator: User | None = None,
        request_id: str | None = None,
    ) -> Match:
        """Queue a match between the given submissions (the rules above are the caller's,
        and so is the commit). ``origin`` is the caller saying who queued it, recorded as the
        reason of its first status; without a creator the match is the platform's own."""
        competitions = {agent.competition_id for agent, _ in seats}
        if len(competitions) != 1:
            raise invalid("agents", "The agents of a match must be of one competition")
        competition_id = competitions.pop()
        competition = CompetitionRepository(self.session).get(competition_id)
        if competition is not None:
            check_may_play(competition)
            # The competition's configuration is every one of its matches' (it wins over
            # what a caller asks for: a fixed board, a fixed timeout).
            config = {**(config or {}), **json.loads(competition.configuration or "{}")}
        match = Match(
            id=new_id("mat"),
            game=game,
            competition_id=competition_id,
            seed=seed if seed is not None else random.randrange(2**31),  # noqa: S311
            configuration=json.dumps(config or {}),
            ranked=ranked,
            created_by=creator.id if creator else None,
            request_id=request_id,
        )
        match.players = [
            MatchPlayer(player=index, agent_id=agent.id, submission_id=submission.id)
            for index, (agent, submission) in enumerate(seats)
        ]
        match.status_events = [MatchStatusEvent(status=MatchState.QUEUED.value, reason=origin)]
        self.session.add(match)
        self.session.flush()
        log.info(
            "Match created",
            matchId=match.id,
            **{
                key: value
                for seat, (agent, submission) in zip(seat_names(len(seats)), seats, strict=True)
                for key, value in _seat_fields(seat, agent, submission).items()
            },
        )
        return match

    def view(self, match_id: str) -> MatchView:
        match = self._get(match_id)
        return MatchView(match, self._queue_position(match))

    def page(
        self,
        *,
        limit: int,
        offset: int,
        agent_id: str | None = None,
        game: str | None = None,
        status: str | None = None,
        ranked: bool | None = None,
    ) -> tuple[Sequence[Match], int]:
        """Matches newest first, only those with each filter given."""
        query = select(Match)
        if agent_id is not None:
            query = query.where(
                Match.id.in_(select(MatchPlayer.match_id).where(MatchPlayer.agent_id == agent_id))
            )
        if game is not None:
            query = query.where(Match.game == game)
        if status is not None:
            query = query.where(Match.status == status)
        if ranked is not None:
            query = query.where(Match.ranked.is_(ranked))
        return page_of(
            self.session,
            query.options(selectinload(Match.players), selectinload(Match.status_events)),
            (Match.created_at.desc(), Match.id.desc()),
            limit,
            offset,
        )

    def in_queue(self, limit: int) -> Sequence[Match]:
        """The matches running now, then those queued, in the order they will be taken (at
        most ``limit``), with their players and status history (the first entry says who
        queued the match: :func:`origin_of`)."""
        running = case((Match.status == MatchState.RUNNING.value, 0), else_=1)
        return self.session.scalars(
            select(Match)
            .where(Match.status.in_((MatchState.QUEUED.value, MatchState.RUNNING.value)))
            .options(selectinload(Match.players), selectinload(Match.status_events))
            .order_by(running, Match.created_at.asc(), Match.id.asc())
            .limit(limit)
        ).all()

    def status_counts(self) -> dict[str, int]:
        """How many matches wait in the queue and how many run now."""
        waiting = (MatchState.QUEUED.value, MatchState.RUNNING.value)
        rows = self.session.execute(
            select(Match.status, func.count())
            .where(Match.status.in_(waiting))
            .group_by(Match.status)
        ).all()
        counts = dict.fromkeys(waiting, 0)
        counts.update({status: int(count) for status, count in rows})
        return counts

    def replay(self, match_id: str) -> Path:
        match = self._get(match_id)
        path = match_dir(self.settings, match.id) / "replay.json"
        if not path.is_file():
            raise not_found(f"Match {match_id} has no replay yet", f"Its status is {match.status}.")
        return path

    def agent_log(self, user: User | None, match_id: str, player: int) -> str:
        match = self._get(match_id)
        if not 0 <= player < len(match.players):
            raise not_found(f"Match {match_id} has no player {player}")
        agent = self.session.get(Agent, match.players[player].agent_id)
        if agent is None or not may_see_private(user, agent):
            raise forbidden("Only the agent's team and admins may read its log")
        path = match_dir(self.settings, match.id) / f"player-{player}.log"
        if not path.is_file():
            raise not_found(f"Match {match_id} has no log yet", f"Its status is {match.status}.")
        return path.read_text(encoding="utf-8", errors="replace")

    def quota(self, user: User) -> ScrimmageQuota:
        """How many unranked matches ``user`` may still create now, of how many per 24 hours,
        and when the next one frees up when none is left. A count, not the window's rows: it
        runs on every match created."""
        quota = self.settings.scrimmage_quota
        now = utcnow()
        counted = (
            Match.created_by == user.id,
            Match.ranked.is_(False),
            Match.created_at > now - QUOTA_WINDOW,
        )
        used = self.session.scalar(select(func.count()).select_from(Match).where(*counted)) or 0
        left = max(quota - used, 0)
        frees_at = None
        if not left:
            # Once enough of the window's matches have aged out of it.
            oldest = None
            if quota:
                oldest = self.session.scalar(
                    select(Match.created_at)
                    .where(*counted)
                    .order_by(Match.created_at.asc())
                    .offset(used - quota)
                    .limit(1)
                )
            frees_at = oldest + QUOTA_WINDOW if oldest is not None else now + QUOTA_WINDOW
        return ScrimmageQuota(left, quota, frees_at)

    def check_quota(self, user: User) -> None:
        """At most ``scrimmage_quota`` unranked matches per user in any 24 hours."""
        quota = self.quota(user)
        if quota.frees_at is None:
            return
        wait = math.ceil((quota.frees_at - utcnow()).total_seconds())
        raise too_many(
            f"Scrimmage quota reached: {quota.per_day} matches per 24 hours",
            f"Try again in {wait} s.",
            wait,
        )

    def playing(self, seat: str, agent: Agent) -> Submission:
        """The agent's active submission, else its newest successful one; else a 400 that
        says what its newest submission is doing."""
        submissions = self.session.scalars(
            select(Submission)
            .where(Submission.agent_id == agent.id)
            .order_by(Submission.version.desc())
        ).all()
        for wanted in (SubmissionStatus.ACTIVE, SubmissionStatus.SUCCESS):
            for submission in submissions:
                if submission.status == wanted.value:
                    return submission
        if not submissions:
            raise bad_request(f"{seat} has no submission")
        raise bad_request(f"{seat} submission is not ready (status: {submissions[0].status})")

    # -- helpers -------------------------------------------------------------------------
    def _get(self, match_id: str) -> Match:
        match = self.session.get(
            Match,
            match_id,
            options=[selectinload(Match.players), selectinload(Match.status_events)],
        )
        if match is None:
            raise not_found(f"Match {match_id} not found")
        return match

    def _queue_position(self, match: Match) -> int | None:
        if match.status != MatchState.QUEUED.value:
            return None
        ahead = self.session.scalar(
            select(func.count()).where(
                Match.status == MatchState.QUEUED.value,
                (Match.created_at < match.created_at)
                | ((Match.created_at == match.created_at) & (Match.id < match.id)),
            )
        )
        return int(ahead or 0)


def may_cancel(user: User | None, match: Match) -> bool:
    """Whether ``user`` may cancel ``match`` (its creator or an admin; while it has not ended)."""
    if user is None or match.state in ENDED:
        return False
    return user.is_admin or match.created_by == user.id


def origin_of(match: Match) -> str | None:
    """Who queued the match, as the caller of :meth:`MatchService.add` said (the reason of
    its first status)."""
    first = min(match.status_events, key=lambda e: e.id, default=None)
    return first.reason if first is not None else None


def _seat_fields(seat: str, agent: Agent, submission: Submission) -> dict[str, Any]:
    artifact = json.loads(submission.artifact) if submission.artifact else {}
    image = artifact.get("image")
    # What the agent plays: its image when it plays one, else where its code came from.
    source = image or submission.code_url or f"archive:{submission.archive_sha256}"
    return {seat: agent.id, f"{seat}Source": source, f"{seat}IsDocker": bool(image)}
