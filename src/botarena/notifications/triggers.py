"""What happened, turned into deliveries in the same transaction as the change itself.

The composition root attaches :class:`Triggers` to the session factories. Before each flush
it looks at the rows being written: a submission's new status (``success`` or
``build_failed``: a build finished; ``failed``: it failed at run time), a new match that a user
queued against someone else's agent (a challenge), a tournament whose round moved on or that
finished, a competition whose phase moved on (to its members). For each, it adds one
delivery row per matching webhook endpoint and e-mail preference of the user concerned to the
same session, so the deliveries commit with the change or not at all: no notice is lost
between a commit and a bus, and none is sent for a change that was rolled back. No earlier
stage is edited or told: they keep writing their rows.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

import structlog
from sqlalchemy import event, inspect, select
from sqlalchemy.orm import Session, sessionmaker

from botarena.accounts.models import User
from botarena.agents.models import Agent, Submission, SubmissionStatusEvent
from botarena.agents.status import SubmissionStatus
from botarena.clock import utcnow
from botarena.competitions.models import Competition
from botarena.competitions.phases import Phase
from botarena.matches.models import Match
from botarena.notifications.fanout import fan_out
from botarena.notifications.kinds import EventKind
from botarena.notifications.texts import Data
from botarena.settings import Settings
from botarena.teams.models import TeamMember
from botarena.tournaments.models import FINISHED, Tournament, TournamentEntrant

log = structlog.get_logger(__name__)

_BUILD_ENDS = {SubmissionStatus.SUCCESS.value, SubmissionStatus.BUILD_FAILED.value}


@dataclass(frozen=True)
class Happening:
    """One event for one user, with the page it concerns."""

    user_id: str
    kind: EventKind
    path: str
    data: Data = field(default_factory=dict)


class Triggers:
    """Adds the deliveries of what a flush writes, in the flushing session."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings

    def attach(self, factory: sessionmaker[Session]) -> None:
        event.listen(factory, "before_flush", self._before_flush)

    def _before_flush(self, session: Session, _context: object, _instances: object) -> None:
        new = list(session.new)
        dirty = [row for row in session.dirty if isinstance(row, Tournament | Competition)]
        if not dirty and not any(isinstance(r, SubmissionStatusEvent | Match) for r in new):
            return
        with session.no_autoflush:
            try:
                happenings = [*self._from_new(session, new), *self._from_changed(session, dirty)]
            except Exception:
                # A notification must never cost the change it reports (a build's result, a
                # match): its own bug is logged, the flush goes on without it.
                log.exception("notifications could not read what happened")
                return
            now = utcnow()
            for happening in happenings:
                fan_out(
                    session,
                    self.settings,
                    happening.user_id,
                    happening.kind,
                    happening.path,
                    happening.data,
                    now,
                )

    def _from_new(self, session: Session, rows: Iterable[object]) -> Iterable[Happening]:
        for row in rows:
            if isinstance(row, SubmissionStatusEvent):
                yield from _submission_status(session, row)
            elif isinstance(row, Match):
                yield from _challenge(session, row)

    def _from_changed(
        self, session: Session, rows: Sequence[Tournament | Competition]
    ) -> Iterable[Happening]:
        for row in rows:
            if isinstance(row, Tournament):
                yield from _tournament(session, row)
            else:
                yield from _competition_phase(session, row)


def _acting_for(session: Session, agents: Sequence[Agent]) -> dict[str, list[str]]:
    """For each agent, the users its news goes to: the members of its team (its creator
    when it has none)."""
    teams = {agent.team_id for agent in agents if agent.team_id is not None}
    members: dict[str, list[str]] = {}
    if teams:
        for team_id, user_id in session.execute(
            select(TeamMember.team_id, TeamMember.user_id)
            .where(TeamMember.team_id.in_(teams))
            .order_by(TeamMember.joined_at)
        ):
            members.setdefault(team_id, []).append(user_id)
    return {agent.id: members.get(agent.team_id or "", []) or [agent.owner_id] for agent in agents}


def _submission_status(session: Session, row: SubmissionStatusEvent) -> Iterable[Happening]:
    if row.status not in _BUILD_ENDS and row.status != SubmissionStatus.FAILED.value:
        return
    submission = row.submission or session.get(Submission, row.submission_id)
    if submission is None:
        return
    agent = submission.agent or session.get(Agent, submission.agent_id)
    if agent is None:
        return
    data: Data = {
        "submissionId": submission.id,
        "agentId": agent.id,
        "agentName": agent.name,
        "game": agent.game,
        "version": submission.version,
        "status": row.status,
        "reason": row.reason,
    }
    kind = EventKind.BUILD_FINISHED if row.status in _BUILD_ENDS else EventKind.SUBMISSION_FAILED
    for user_id in _acting_for(session, [agent])[agent.id]:
        yield Happening(user_id, kind, f"/submissions/{submission.id}", data)


def _challenge(session: Session, match: Match) -> Iterable[Happening]:
    """A match a user queued (a challenge, or one made through the API) is news to the
    teams of the other agents in it (every member but the challenger)."""
    if match.created_by is None:
        return
    challenger = session.get(User, match.created_by)
    agent_ids = [player.agent_id for player in match.players]
    agents = session.scalars(select(Agent).where(Agent.id.in_(agent_ids))).all()
    by_id = {agent.id: agent for agent in agents}
    people = _acting_for(session, agents)
    challengers = [by_id[i].name for i in agent_ids if i in by_id and match.created_by in people[i]]
    told: set[str] = set()  # an agent seated twice is news once
    for agent_id in agent_ids:
        agent = by_id.get(agent_id)
        if agent is None or agent.id in told or match.created_by in people[agent.id]:
            continue  # gone, told already, or the challenger's own (their team's) agent
        told.add(agent.id)
        data: Data = {
            "matchId": match.id,
            "game": match.game,
            "agentId": agent.id,
            "agentName": agent.name,
            "challenger": challenger.username if challenger else None,
            "challengerAgent": ", ".join(challengers) or None,
            "ranked": match.ranked,
        }
        for user_id in people[agent.id]:
            yield Happening(user_id, EventKind.CHALLENGE_RECEIVED, f"/matches/{match.id}", data)


def _tournament(session: Session, tournament: Tournament) -> Iterable[Happening]:
    state = inspect(tournament)
    rounds = state.attrs.current_round.history
    statuses = state.attrs.status.history
    ended: list[tuple[EventKind, int]] = []
    if rounds.deleted and rounds.added:
        before = rounds.deleted[0]
        if isinstance(before, int) and before >= 1:
            ended.append((EventKind.TOURNAMENT_ROUND, before))
    if statuses.added and statuses.added[0] == FINISHED and FINISHED not in statuses.deleted:
        ended.append((EventKind.TOURNAMENT_FINISHED, tournament.current_round))
    if not ended:
        return
    entrants = session.scalars(
        select(Agent)
        .join(TournamentEntrant, TournamentEntrant.agent_id == Agent.id)
        .where(TournamentEntrant.tournament_id == tournament.id)
        .order_by(Agent.name)
    ).all()
    people = _acting_for(session, entrants)
    agents_of: dict[str, list[str]] = {}
    for agent in entrants:
        for user_id in people[agent.id]:
            agents_of.setdefault(user_id, []).append(agent.name)
    for kind, number in ended:
        for owner_id, names in agents_of.items():
            data: Data = {
                "tournamentId": tournament.id,
                "game": tournament.game,
                "format": tournament.format,
                "round": number,
                "rounds": tournament.rounds,
                "status": tournament.status,
                "agentName": ", ".join(names),
            }
            yield Happening(owner_id, kind, f"/tournaments/{tournament.id}", data)


# The phases a competition's members are told of when it reaches them.
_ANNOUNCED = frozenset({Phase.OPEN, Phase.CLOSED, Phase.FINAL, Phase.FROZEN})


def _competition_phase(session: Session, competition: Competition) -> Iterable[Happening]:
    """A competition whose noted phase moved on (see ``CompetitionService.announce_phases``)
    is news to every member of its teams."""
    noted = inspect(competition).attrs.announced_phase.history
    previous = noted.deleted[0] if noted.deleted else None
    if not noted.added or noted.added[0] == previous:
        return
    phase = noted.added[0]
    if phase not in {p.value for p in _ANNOUNCED}:
        return
    members = session.scalars(
        select(TeamMember.user_id).where(TeamMember.competition_id == competition.id)
    ).all()
    for user_id in sorted(set(members)):
        data: Data = {
            "competitionId": competition.id,
            "competitionTitle": competition.title,
            "game": competition.game,
            "phase": phase,
            "previousPhase": previous,
        }
        yield Happening(
            user_id, EventKind.COMPETITION_PHASE, f"/competitions/{competition.slug}", data
        )
