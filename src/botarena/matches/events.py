"""What the event bus hears of matches: each status a match enters (``match:<id>``)."""

from __future__ import annotations

from botarena.events import Notice
from botarena.events.notice import Scalar
from botarena.matches.models import MatchStatusEvent

TOPIC_PREFIX = "match:"


def match_topic(match_id: str) -> str:
    return f"{TOPIC_PREFIX}{match_id}"


def match_status_notices(row: MatchStatusEvent) -> list[Notice]:
    """The notice of a status a match entered (a watcher of the bus)."""
    data: dict[str, Scalar] = {"id": row.id, "status": row.status, "at": row.at.isoformat()}
    return [Notice(match_topic(row.match_id), data)]
