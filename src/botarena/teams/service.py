"""Rules about teams: who may make, join, leave, rename and merge them, and who may act for
the agents a team owns.

A team owns agents, but teams come before agents on the data path: what a rule needs of the
agents (which a team owns, moving them, stopping them) comes through :class:`TeamAgents`,
which the agents package implements and the composition root hands over.

Each public method is one unit of work: it checks, writes and commits, or raises and writes
nothing.
"""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Protocol

from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from botarena.accounts.models import User
from botarena.audit.actions import Action
from botarena.audit.context import ActionContext
from botarena.audit.service import AuditLog
from botarena.clock import utcnow
from botarena.competitions.models import INVITE_ONLY, Competition
from botarena.competitions.repository import CompetitionRepository
from botarena.errors import bad_request, conflict, forbidden, invalid, not_found
from botarena.ids import new_id
from botarena.teams.models import MEMBER, OWNER, Team, TeamMember
from botarena.teams.repository import TeamRepository

NAME_MAX = 64


@dataclass(frozen=True)
class TeamAgent:
    """An agent as a team sees it."""

    id: str
    name: str
    game: str


class TeamAgents(Protocol):
    """What the team rules need of the agents a team owns (implemented by the agents
    package, in the caller's transaction; nothing here commits)."""

    def of_team(self, team_id: str) -> list[TeamAgent]: ...

    def move(self, from_team_id: str, to_team_id: str) -> None:
        """Every agent of one team to another (a merge)."""

    def retire(self, team_id: str, reason: str) -> list[str]:
        """Stop the team's agents playing (their active submissions turn inactive, with the
        reason); the ids of the agents that were playing."""


@dataclass(frozen=True)
class TeamView:
    """A team with what its page and the API show beside it."""

    team: Team
    agents: list[TeamAgent]
    merge_requests: Sequence[Team]  # teams asking to merge into this one
    merge_into: Team | None  # the team this one asked to merge into


@dataclass(frozen=True)
class MadeCode:
    """A team and its new invite code, which is shown this once (only its hash is kept)."""

    team: Team
    code: str


def is_member(user: User, team: Team | None) -> bool:
    """Whether ``user`` is one of the team's members: they may act for the team's agents
    (submit, activate, rebuild, read their build and match logs), as admins may."""
    return team is not None and any(m.user_id == user.id for m in team.members)


def invite_digest(code: str) -> str:
    return hashlib.sha256(code.strip().encode()).hexdigest()


class TeamService:
    """Making, joining, leaving, renaming, merging and disbanding teams."""

    def __init__(self, session: Session, agents: TeamAgents) -> None:
        self.session = session
        self.agents = agents
        self.teams = TeamRepository(session)

    # Reading.

    def competition(self, competition_id: str) -> Competition:
        found = CompetitionRepository(self.session).get(competition_id)
        if found is None:
            raise not_found("Competition not found")
        return found

    def page(self, competition_id: str, limit: int, offset: int) -> tuple[Sequence[Team], int]:
        self.competition(competition_id)
        return self.teams.page(competition_id, limit, offset)

    def get(self, team_id: str) -> Team:
        team = self.teams.get(team_id)
        if team is None:
            raise not_found("Team not found")
        return team

    def view(self, team_id: str) -> TeamView:
        team = self.get(team_id)
        into = self.teams.get(team.merge_into_id) if team.merge_into_id else None
        return TeamView(
            team, self.agents.of_team(team.id), self.teams.asking_to_merge_into(team.id), into
        )

    def current_team(self, user: User, competition_id: str) -> Team | None:
        return self.teams.of_user(competition_id, user.id)

    def of_member(self, user: User) -> Sequence[Team]:
        return self.teams.of_member(user.id)

    def by_code(self, code: str) -> Team:
        """The team an invite code leads to (404 for a code no team has now)."""
        team = self.teams.by_invite_hash(invite_digest(code)) if code.strip() else None
        if team is None or team.disbanded_at is not None:
            raise not_found("No team has this invite code", "Ask a member for a new one.")
        return team

    # Changing.

    def create(
        self, user: User, competition_id: str, name: str, context: ActionContext
    ) -> MadeCode:
        """A new team with ``user`` as its owner, and its first invite code. A user alone in
        a team without agents moves to the new one (that team goes); anyone else must leave
        their team first."""
        competition = self.competition(competition_id)
        if (
            competition.visibility == INVITE_ONLY
            and not user.is_admin
            and self.teams.of_user(competition.id, user.id) is None
        ):
            # Joining is what the competition's code is for; a team's own invite code is
            # its members vouching for someone, and stays enough to join that team.
            raise forbidden(
                f"Competition {competition.title} is invite-only: join it with its join code "
                "before starting a team in it"
            )
        name = self._checked_name(competition.id, name)
        self._vacate(user, competition.id)
        now = utcnow()
        code = _new_code()
        team = Team(
            id=new_id("tea"),
            competition_id=competition.id,
            name=name,
            name_key=name.lower(),
            created_by=user.id,
            created_at=now,
            invite_code_hash=invite_digest(code),
        )
        team.members = [
            TeamMember(user_id=user.id, competition_id=competition.id, role=OWNER, joined_at=now)
        ]
        with self._unique(f"Team name {name} is already taken in this competition"):
            self.session.add(team)
            self._audit(context, Action.TEAM_CREATED, team, {"name": name})
        return MadeCode(team, code)

    def rename(self, user: User, team_id: str, name: str) -> Team:
        team = self._live(team_id)
        self._owner_only(user, team, "rename it")
        if name.strip().lower() != team.name_key:
            name = self._checked_name(team.competition_id, name)
        with self._unique(f"Team name {name} is already taken in this competition"):
            team.name, team.name_key = name.strip(), name.strip().lower()
        return team

    def new_invite_code(self, user: User, team_id: str) -> MadeCode:
        """A fresh invite code for the team, shown this once; the previous one stops."""
        team = self._live(team_id)
        if not (user.is_admin or is_member(user, team)):
            raise forbidden("Only the team's members can see its invite code")
        code = _new_code()
        team.invite_code_hash = invite_digest(code)
        self.session.commit()
        return MadeCode(team, code)

    def join(self, user: User, code: str, context: ActionContext) -> Team:
        """``user`` joins the team of the invite code."""
        found = self.by_code(code)
        team = self.teams.locked(found.id)
        assert team is not None
        current = self.teams.of_user(team.competition_id, user.id)
        if current is not None and current.id == team.id:
            return team
        competition = self.competition(team.competition_id)
        limit = competition.max_team_size
        if limit is not None and len(team.members) >= limit:
            raise conflict(
                f"Team {team.name} is full",
                f"This competition allows at most {limit} members per team.",
            )
        with self._unique("You joined another team at the same time"):
            self._vacate(user, team.competition_id)
            joined = TeamMember(
                user_id=user.id, competition_id=team.competition_id, role=MEMBER, joined_at=utcnow()
            )
            team.members.append(joined)
            self._audit(context, Action.TEAM_JOINED, team, {"userId": user.id})
        return team

    def leave(self, user: User, team_id: str, context: ActionContext) -> Team | None:
        """``user`` leaves the team; an owner hands ownership to the longest-standing member.
        The last member of a team that owns agents cannot leave it; a team without agents
        goes with its last member. The team, or None when it went."""
        team = self._live(team_id)
        membership = next((m for m in team.members if m.user_id == user.id), None)
        if membership is None:
            raise forbidden("You are not a member of this team")
        others = [m for m in team.members if m.user_id != user.id]
        agents = self.agents.of_team(team.id)
        if not others and agents:
            raise conflict(
                "The last member of a team that owns agents cannot leave it",
                "Merge the team into another one, or ask an admin to disband it.",
            )
        details: dict[str, object] = {"userId": user.id}
        if not others:
            self._audit(context, Action.TEAM_LEFT, team, {**details, "teamRemoved": True})
            self._remove(team)
            self.session.commit()
            return None
        team.members.remove(membership)
        if membership.role == OWNER:
            others[0].role = OWNER
            details["newOwnerId"] = others[0].user_id
        self._audit(context, Action.TEAM_LEFT, team, details)
        self.session.commit()
        return team

    def request_merge(
        self, user: User, team_id: str, into_id: str | None, context: ActionContext
    ) -> Team:
        """The owner of ``team_id`` asks to merge it into ``into_id`` (None withdraws the
        request); the merge happens when the other team's owner accepts."""
        team = self._live(team_id)
        self._owner_only(user, team, "ask for a merge")
        if into_id is None:
            team.merge_into_id, team.merge_requested_at = None, None
            self.session.commit()
            return team
        into = self._live(into_id)
        self._check_merge(team, into)
        team.merge_into_id, team.merge_requested_at = into.id, utcnow()
        self._audit(context, Action.TEAM_MERGE_REQUESTED, team, {"into": into.id})
        self.session.commit()
        return team

    def answer_merge(
        self, user: User, team_id: str, from_id: str, accept: bool, context: ActionContext
    ) -> Team:
        """The owner of ``team_id`` accepts (or declines) the request of ``from_id`` to merge
        into it: its members and agents move here and it goes."""
        # Both locked (in one order) before their members are read: a join or another merge
        # at the same time waits for this one.
        for locking in sorted({team_id, from_id}):
            self.teams.locked(locking)
        team = self._live(team_id)
        self._owner_only(user, team, "answer a merge request")
        merging = self.teams.get(from_id)
        if merging is None or merging.merge_into_id != team.id:
            raise not_found("No such merge request")
        if not accept:
            merging.merge_into_id, merging.merge_requested_at = None, None
            self.session.commit()
            return team
        self._check_merge(merging, team)
        moved = [(m.user_id, m.joined_at) for m in merging.members]
        agents = [a.id for a in self.agents.of_team(merging.id)]
        self.agents.move(merging.id, team.id)
        self._audit(
            context,
            Action.TEAM_MERGED,
            team,
            {
                "from": merging.id,
                "fromName": merging.name,
                "members": [user_id for user_id, _ in moved],
                "agents": agents,
            },
        )
        with self._unique("The teams changed while merging"):
            self._remove(merging)
            self.session.flush()
            for user_id, joined_at in moved:
                team.members.append(
                    TeamMember(
                        user_id=user_id,
                        competition_id=team.competition_id,
                        role=MEMBER,
                        joined_at=joined_at,
                    )
                )
        return team

    def disband(self, admin: User, team_id: str, context: ActionContext) -> Team:
        """An admin disbands a team: its members are removed and its agents stop playing
        (their submissions stay, inactive; only admins may act for them now). The team's row
        stays, marked disbanded, so its agents and past standings still name it."""
        if not admin.is_admin:
            raise forbidden("Only admins can disband a team")
        team = self._live(team_id)
        members = [m.user_id for m in team.members]
        stopped = self.agents.retire(team.id, f"team disbanded by {admin.username}")
        team.members.clear()
        team.invite_code_hash = None
        team.merge_into_id, team.merge_requested_at = None, None
        team.disbanded_at = utcnow()
        for asking in self.teams.asking_to_merge_into(team.id):
            asking.merge_into_id, asking.merge_requested_at = None, None
        self._audit(
            context, Action.TEAM_DISBANDED, team, {"members": members, "stoppedAgents": stopped}
        )
        self.session.commit()
        return team

    # Helpers.

    def _live(self, team_id: str) -> Team:
        team = self.get(team_id)
        if team.disbanded_at is not None:
            raise conflict(f"Team {team.name} was disbanded")
        return team

    def _owner_only(self, user: User, team: Team, what: str) -> None:
        if user.is_admin:
            return
        if not any(m.user_id == user.id and m.role == OWNER for m in team.members):
            raise forbidden(f"Only the team's owner can {what}")

    def _checked_name(self, competition_id: str, name: str) -> str:
        name = name.strip()
        if not name or len(name) > NAME_MAX or not name.isprintable():
            raise invalid("name", f"A team's name is 1 to {NAME_MAX} printable characters")
        if self.teams.by_name(competition_id, name) is not None:
            raise conflict(f"Team name {name} is already taken in this competition")
        return name

    def _vacate(self, user: User, competition_id: str) -> None:
        """Make room for ``user`` to be in another team of the competition: a team of theirs
        alone and without agents goes; any other team of theirs refuses."""
        current = self.teams.of_user(competition_id, user.id)
        if current is None:
            return
        if len(current.members) > 1 or self.agents.of_team(current.id):
            raise conflict(
                f"You are already in team {current.name} in this competition",
                "A user is in one team per competition: leave it first, or merge the teams.",
            )
        self._remove(current)
        self.session.flush()

    def _check_merge(self, team: Team, into: Team) -> None:
        if team.id == into.id:
            raise bad_request("A team cannot merge into itself")
        if team.competition_id != into.competition_id:
            raise bad_request("Teams of different competitions cannot merge")
        competition = self.competition(team.competition_id)
        if not competition.team_merges:
            raise bad_request("This competition does not allow team merges")
        deadline = competition.deadline_at
        if deadline is not None and utcnow() >= deadline:
            raise bad_request(
                "Teams can merge only before the competition's deadline",
                f"The deadline was {deadline.isoformat()}.",
            )
        limit = competition.max_team_size
        size = len(team.members) + len(into.members)
        if limit is not None and size > limit:
            raise conflict(
                f"Merged, the team would have {size} members",
                f"This competition allows at most {limit} members per team.",
            )

    def _remove(self, team: Team) -> None:
        """A team that owns nothing goes, with any request to merge into it."""
        for asking in self.teams.asking_to_merge_into(team.id):
            asking.merge_into_id, asking.merge_requested_at = None, None
        self.session.delete(team)

    def _audit(
        self, context: ActionContext, action: Action, team: Team, details: dict[str, object]
    ) -> None:
        AuditLog(self.session).record(
            context,
            action,
            target_type="team",
            target_id=team.id,
            details={"competitionId": team.competition_id, "team": team.name, **details},
        )

    @contextmanager
    def _unique(self, clash: str) -> Iterator[None]:
        """Write and commit; a unique rule broken by a concurrent request (at a flush or at
        the commit) is a clean 409, with nothing written."""
        try:
            yield
            self.session.commit()
        except IntegrityError as exc:
            self.session.rollback()
            raise conflict(clash, "Reload and try again.") from exc


def _new_code() -> str:
    return secrets.token_urlsafe(16)
