"""A competition's phase and its limits, in one place: what the clock and the admin's actions
make of a competition's dates, and what each phase allows.

    upcoming  before ``opens_at``: visible; no agents, no submissions, no matches
    open      submissions (within the daily limit), the ladder, scrimmages
    closed    after ``deadline_at``: no new submissions; the ladder goes on with the
              submissions selected for the final
    final     the final evaluation, started by an admin after the deadline, is playing
    frozen    after ``final_ends_at`` or once frozen (by the admin, or when the final
              evaluation ended): nothing changes the standings, no matches; replays stay

A default competition is always open and has no limits. The clock is read through
:func:`botarena.clock.utcnow` (the module's attribute, so tests can move it).
"""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta
from enum import StrEnum

from botarena import clock
from botarena.competitions.models import Competition
from botarena.errors import AppError, bad_request, too_many


class Phase(StrEnum):
    UPCOMING = "upcoming"
    OPEN = "open"
    CLOSED = "closed"
    FINAL = "final"
    FROZEN = "frozen"


# Phases in which matches may be played at all (the ladder, scrimmages, the final).
PLAYING = frozenset({Phase.OPEN, Phase.CLOSED, Phase.FINAL})
# Phases in which the ladder plays only the submissions selected for the final.
SELECTED_ONLY = frozenset({Phase.CLOSED, Phase.FINAL})


def now() -> datetime:
    """The clock every phase is computed against (UTC, aware)."""
    return clock.utcnow()


def aware(moment: datetime | None) -> datetime | None:
    """``moment`` as an aware UTC time (SQLite hands back naive ones)."""
    if moment is None:
        return None
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


def phase_of(competition: Competition, at: datetime | None = None) -> Phase:
    """Where ``competition`` stands at ``at`` (default: now)."""
    if competition.is_default:
        return Phase.OPEN
    moment = at or now()
    final_ends = aware(competition.final_ends_at)
    if competition.frozen_at is not None or (final_ends is not None and moment >= final_ends):
        return Phase.FROZEN
    opens = aware(competition.opens_at)
    if opens is not None and moment < opens:
        return Phase.UPCOMING
    deadline = aware(competition.deadline_at)
    if deadline is not None and moment >= deadline:
        return Phase.FINAL if competition.final_started_at is not None else Phase.CLOSED
    return Phase.OPEN


def next_date(competition: Competition, at: datetime | None = None) -> tuple[str, datetime] | None:
    """The next date the competition's phase changes on by itself, and what it is (none once
    frozen, even when frozen before its final end date)."""
    moment = at or now()
    if competition.frozen_at is not None:
        return None
    dates = (
        ("opens", competition.opens_at),
        ("deadline", competition.deadline_at),
        ("final ends", competition.final_ends_at),
    )
    for label, value in dates:
        when = aware(value)
        if when is not None and when > moment:
            return label, when
    return None


def check_may_take_part(competition: Competition, what: str, at: datetime | None = None) -> None:
    """Refuse ``what`` (e.g. "new agents", "submissions") unless the competition is open."""
    phase = phase_of(competition, at)
    if phase == Phase.OPEN:
        return
    raise refusal(competition, phase, what)


def refusal(competition: Competition, phase: Phase, what: str) -> AppError:
    """The 400 that says why ``what`` is refused in ``phase``, naming the date concerned."""
    title = competition.title
    if phase == Phase.UPCOMING:
        opens = _stamp(competition.opens_at)
        return bad_request(
            f"Competition {title} is not open yet: {what} are accepted from {opens}",
            "Until then the competition can be read and teams formed.",
        )
    if phase in SELECTED_ONLY:
        deadline = _stamp(competition.deadline_at)
        return bad_request(
            f"Competition {title} closed at its deadline {deadline}: {what} are refused",
            "Your team's submissions selected for the final (or its newest active ones) play on.",
        )
    return bad_request(
        f"Competition {title} is frozen: {what} are refused",
        "Its final standings are kept as they are.",
    )


def check_may_play(competition: Competition, at: datetime | None = None) -> None:
    """Refuse a new match of a competition that is not playing (upcoming or frozen)."""
    phase = phase_of(competition, at)
    if phase not in PLAYING:
        raise refusal(competition, phase, "matches")


def day_start(at: datetime) -> datetime:
    """The UTC midnight that began ``at``'s day."""
    moment = at.replace(tzinfo=UTC) if at.tzinfo is None else at.astimezone(UTC)
    return datetime.combine(moment.date(), time(), tzinfo=UTC)


def next_reset(at: datetime) -> datetime:
    """The next UTC midnight: when a day's submission count starts again."""
    return day_start(at) + timedelta(days=1)


def check_daily_limit(competition: Competition, used_today: int, at: datetime) -> None:
    """429 when a team made its ``daily_submission_limit`` submissions this UTC day; the
    message and ``Retry-After`` say when the count starts again (the next UTC midnight)."""
    limit = competition.daily_submission_limit
    if limit is None or competition.is_default or used_today < limit:
        return
    reset = next_reset(at)
    raise too_many(
        f"Daily submission limit reached: {limit} a day per team in {competition.title}",
        f"The count starts again at {reset.isoformat()} (UTC midnight).",
        int((reset - at).total_seconds()) + 1,
    )


def remaining_today(competition: Competition, used_today: int) -> int | None:
    """Submissions the team may still make today; None for no limit."""
    limit = competition.daily_submission_limit
    if limit is None or competition.is_default:
        return None
    return max(limit - used_today, 0)


def _stamp(moment: datetime | None) -> str:
    value = aware(moment)
    return value.isoformat() if value is not None else "(no date)"
