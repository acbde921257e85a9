"""Rules about competitions: admins create and change them, everyone reads the public ones,
members and admins the invite-only ones in lists, and anyone with the code joins.

Each public method is one unit of work: it checks, writes and commits, or raises and writes
nothing. What may change once a competition has opened is kept sane here: its game
configuration and opening date stay once it opened, its deadline once it passed, and a
frozen competition keeps everything but its words.
"""

from __future__ import annotations

import hmac
import json
import re
import secrets
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from botarena.accounts.models import User
from botarena.accounts.security import hash_token
from botarena.audit.actions import Action
from botarena.audit.context import ActionContext
from botarena.audit.service import AuditLog
from botarena.competitions.membership import Membership
from botarena.competitions.models import INVITE_ONLY, Competition
from botarena.competitions.phases import Phase, aware, now, phase_of
from botarena.competitions.repository import CompetitionRepository
from botarena.competitions.schemas import SLUG
from botarena.errors import bad_request, conflict, forbidden, invalid, not_found
from botarena.games.base import GameConfigError
from botarena.games.registry import UnknownGameError, get_game
from botarena.ids import new_id

JOIN_CODE_PREFIX = "join_"
_NOT_SLUG = re.compile(r"[^a-z0-9]+")
_SLUG = re.compile(SLUG)
# Addresses a slug may not take: a page of its own (/competitions/new), or an id's shape.
_RESERVED = frozenset({"new"})
_ID_PREFIX = "cmp-"


@dataclass(frozen=True)
class CompetitionSpec:
    """What an admin asks for in a new competition (the API body, as plain values)."""

    game: str
    configuration: dict[str, Any]
    title: str
    slug: str | None
    description: str
    opens_at: datetime
    deadline_at: datetime
    final_ends_at: datetime
    visibility: str
    daily_submission_limit: int | None
    final_submissions_per_team: int
    max_team_size: int | None
    team_merges: bool


@dataclass(frozen=True)
class WithCode:
    """A competition and its join code, when one was just made (shown once)."""

    competition: Competition
    join_code: str | None


# What may still change in each phase (beyond the words, which always may).
_WORDS = frozenset({"title", "description"})
_CHANGEABLE: dict[Phase, frozenset[str]] = {
    Phase.UPCOMING: frozenset(
        {
            "configuration",
            "opens_at",
            "deadline_at",
            "final_ends_at",
            "visibility",
            "daily_submission_limit",
            "final_submissions_per_team",
            "max_team_size",
            "team_merges",
        }
    ),
    Phase.OPEN: frozenset(
        {
            "deadline_at",
            "final_ends_at",
            "visibility",
            "daily_submission_limit",
            "final_submissions_per_team",
            "max_team_size",
            "team_merges",
        }
    ),
    Phase.CLOSED: frozenset({"final_ends_at", "visibility"}),
    Phase.FINAL: frozenset({"final_ends_at", "visibility"}),
    Phase.FROZEN: frozenset({"visibility"}),
}


class CompetitionService:
    """Creating, changing, listing and joining competitions."""

    def __init__(self, session: Session) -> None:
        self.session = session
        self.competitions = CompetitionRepository(session)

    def create(self, user: User, spec: CompetitionSpec, context: ActionContext) -> WithCode:
        """A new competition (admins; audited); an invite-only one gets a join code."""
        if not user.is_admin:
            raise forbidden("Only admins may create competitions")
        configuration = _checked_configuration(spec.game, spec.configuration)
        _check_dates(spec.opens_at, spec.deadline_at, spec.final_ends_at)
        slug = self._slug(spec.slug, spec.title)
        code = _new_join_code() if spec.visibility == INVITE_ONLY else None
        at = now()
        competition = Competition(
            id=new_id("cmp"),
            slug=slug,
            game=spec.game,
            configuration=json.dumps(configuration, sort_keys=True),
            title=spec.title.strip(),
            description=spec.description,
            is_default=False,
            visibility=spec.visibility,
            join_code_hash=hash_token(code) if code is not None else None,
            opens_at=aware(spec.opens_at),
            deadline_at=aware(spec.deadline_at),
            final_ends_at=aware(spec.final_ends_at),
            daily_submission_limit=spec.daily_submission_limit,
            final_submissions_per_team=spec.final_submissions_per_team,
            max_team_size=spec.max_team_size,
            team_merges=spec.team_merges,
            created_by=user.id,
            created_at=at,
            updated_at=at,
        )
        # What it is now goes unannounced: nobody is in it yet.
        competition.announced_phase = phase_of(competition, at).value
        self.session.add(competition)
        AuditLog(self.session).record(
            context,
            Action.COMPETITION_CREATED,
            target_type="competition",
            target_id=competition.id,
            details={"slug": slug, "game": spec.game, "visibility": spec.visibility},
        )
        try:
            self.session.commit()
        except IntegrityError as exc:  # the same slug taken at the same moment
            self.session.rollback()
            raise conflict(f"Competition address {slug} is already taken") from exc
        return WithCode(competition, code)

    def update(
        self, user: User, ref: str, changes: dict[str, Any], context: ActionContext
    ) -> WithCode:
        """Change a competition (admins; audited): only what its phase still allows."""
        if not user.is_admin:
            raise forbidden("Only admins may change competitions")
        competition = self.get(ref)
        new_code = bool(changes.pop("new_join_code", False))
        if competition.is_default and set(changes) - _WORDS:
            raise bad_request("A game's default competition has no dates, limits or visibility")
        phase = phase_of(competition)
        refused = sorted(set(changes) - _WORDS - _CHANGEABLE[phase])
        if refused:
            raise bad_request(
                f"Cannot change {', '.join(refused)} of a competition that is {phase.value}",
                "The game configuration and the opening date stay once it opened, the "
                "deadline once it passed; a frozen competition keeps everything but its words.",
            )
        if "configuration" in changes:
            checked = _checked_configuration(competition.game, changes["configuration"] or {})
            changes["configuration"] = json.dumps(checked, sort_keys=True)
        for name in ("opens_at", "deadline_at", "final_ends_at"):
            if name in changes:
                if changes[name] is None:
                    raise invalid(_camel(name), "A competition's dates cannot be removed")
                changes[name] = aware(changes[name])
        _check_dates(
            changes.get("opens_at", competition.opens_at),
            changes.get("deadline_at", competition.deadline_at),
            changes.get("final_ends_at", competition.final_ends_at),
        )
        for name, value in changes.items():
            setattr(competition, name, value)
        code = None
        invite_only = competition.visibility == INVITE_ONLY
        if invite_only and (new_code or competition.join_code_hash is None):
            code = _new_join_code()
            competition.join_code_hash = hash_token(code)
        elif not invite_only:
            competition.join_code_hash = None
        competition.updated_at = now()
        AuditLog(self.session).record(
            context,
            Action.COMPETITION_UPDATED,
            target_type="competition",
            target_id=competition.id,
            details={"changed": sorted(changes), "newJoinCode": code is not None},
        )
        self.session.commit()
        return WithCode(competition, code)

    def get(self, ref: str) -> Competition:
        """The competition with this id or slug. An invite-only one is readable by whoever
        has its address (they need it to join); it is left out of others' lists."""
        competition = self.competitions.by_ref(ref)
        if competition is None:
            raise not_found(f"Competition {ref} not found")
        return competition

    def listed(self, viewer: User | None, membership: Membership) -> list[Competition]:
        """Public competitions, plus the invite-only ones the viewer is in (admins: all)."""
        member_of = membership.competitions_of(viewer.id) if viewer is not None else set()
        everything = viewer is not None and viewer.is_admin
        return self.competitions.listed(member_of, everything)

    def join(self, user: User, ref: str, code: str | None, membership: Membership) -> str:
        """Take part (the caller's team there, made when they have none); an invite-only
        competition needs its join code. Joining is refused once it is frozen."""
        competition = self.get(ref)
        if phase_of(competition) == Phase.FROZEN:
            raise bad_request(f"Competition {competition.title} is frozen: nobody joins any more")
        invited = competition.visibility == INVITE_ONLY and not user.is_admin
        if invited and competition.id not in membership.competitions_of(user.id):
            _check_code(competition, code)
        team_id = membership.join(competition.id, user)
        self.session.commit()
        return team_id

    def announce_phases(self) -> int:
        """Note each competition's phase where it moved on since last noted (by the clock or
        an admin); the notifications hear of the change in the same commit. Returns how many
        moved on."""
        moved = 0
        at = now()
        for competition in self.competitions.announceable():
            phase = phase_of(competition, at).value
            if competition.announced_phase != phase:
                competition.announced_phase = phase
                moved += 1
        self.session.commit()
        return moved

    def _slug(self, wanted: str | None, title: str) -> str:
        if wanted is not None:
            if not _SLUG.fullmatch(wanted) or _reserved(wanted):
                raise invalid(
                    "slug",
                    "A competition's address is 1 to 64 lower-case letters, digits and '-', "
                    f"starting with a letter or digit (not 'new' nor starting with '{_ID_PREFIX}')",
                )
            if self.competitions.by_ref(wanted) is not None:
                raise conflict(f"Competition address {wanted} is already taken")
            return wanted
        base = _NOT_SLUG.sub("-", title.lower()).strip("-")[:56] or "competition"
        if _reserved(base):
            base = f"competition-{base}"[:56]
        return self.competitions.free_slug(base)


def _reserved(slug: str) -> bool:
    return slug in _RESERVED or slug.startswith(_ID_PREFIX)


def _check_code(competition: Competition, code: str | None) -> None:
    expected = competition.join_code_hash
    if not code or expected is None or not hmac.compare_digest(hash_token(code), expected):
        raise forbidden("This competition is invite-only: a valid join code is needed")


def _new_join_code() -> str:
    return JOIN_CODE_PREFIX + secrets.token_urlsafe(16)


def _checked_configuration(game: str, configuration: dict[str, Any]) -> dict[str, Any]:
    """The configuration as the game accepts it (as a match's is checked)."""
    try:
        get_game(game).configure(configuration)
    except UnknownGameError as exc:
        raise invalid("game", exc.message) from exc
    except GameConfigError as exc:
        raise invalid("configuration", str(exc)) from exc
    return configuration


def _check_dates(opens: datetime | None, deadline: datetime | None, ends: datetime | None) -> None:
    o, d, e = aware(opens), aware(deadline), aware(ends)
    if o is None or d is None or e is None:
        raise invalid("opensAt", "A competition needs its three dates")
    if not o < d < e:
        raise invalid(
            "deadlineAt",
            "The dates must follow each other: opensAt < deadlineAt < finalEndsAt",
        )


def _camel(name: str) -> str:
    head, *rest = name.split("_")
    return head + "".join(part.title() for part in rest)
