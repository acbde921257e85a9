"""What a notification says: the JSON body every channel shares, and an e-mail's words."""

from __future__ import annotations

import json
from collections.abc import Mapping
from datetime import datetime

from botarena.notifications.kinds import LABELS, EventKind
from botarena.settings import Settings

Data = Mapping[str, str | int | float | bool | None]


def link(settings: Settings, path: str) -> str:
    """An absolute link when ``BOTARENA_PUBLIC_URL`` is set, else the path alone."""
    return (settings.public_url or "").rstrip("/") + path


def body(event: EventKind, at: datetime, url: str, data: Data) -> str:
    """The webhook's body (and what an e-mail is written from)."""
    return json.dumps(
        {"event": event.value, "occurredAt": at.isoformat(), "url": url, "data": dict(data)},
        separators=(",", ":"),
        sort_keys=True,
    )


def email_text(event: str, payload: Mapping[str, object]) -> tuple[str, str]:
    """The subject and plain text of an e-mail for ``payload``."""
    data = payload.get("data")
    facts = data if isinstance(data, Mapping) else {}
    kind = EventKind(event) if event in EventKind._value2member_map_ else None
    subject = "botarena: " + _summary(kind, facts)
    lines = [_summary(kind, facts) + ".", ""]
    lines += [f"{name}: {value}" for name, value in sorted(facts.items()) if value is not None]
    lines += ["", f"See {payload.get('url')}", ""]
    lines += ["You get this because of your notification settings on botarena (/me/notifications)."]
    return subject, "\n".join(lines) + "\n"


def _summary(kind: EventKind | None, facts: Mapping[str, object]) -> str:
    agent = facts.get("agentName", "your agent")
    if kind is EventKind.BUILD_FINISHED:
        if facts.get("status") == "success":
            return f"{agent} v{facts.get('version')} built"
        return f"The build of {agent} v{facts.get('version')} failed"
    if kind is EventKind.SUBMISSION_FAILED:
        return f"{agent} v{facts.get('version')} failed at run time"
    if kind is EventKind.CHALLENGE_RECEIVED:
        return f"{facts.get('challenger')} challenged {agent}"
    if kind is EventKind.TOURNAMENT_ROUND:
        return f"Round {facts.get('round')} of tournament {facts.get('tournamentId')} ended"
    if kind is EventKind.TOURNAMENT_FINISHED:
        return f"Tournament {facts.get('tournamentId')} finished"
    if kind is EventKind.COMPETITION_PHASE:
        return _phase_summary(facts)
    if kind is EventKind.PING:
        return "A test notification"
    return LABELS.get(kind, "A notification") if kind else "A notification"


_PHASE_WORDS = {
    "open": "is open for submissions",
    "closed": "passed its submission deadline",
    "final": "started its final evaluation",
    "frozen": "has its final results",
}


def _phase_summary(facts: Mapping[str, object]) -> str:
    title = facts.get("competitionTitle", "A competition")
    words = _PHASE_WORDS.get(str(facts.get("phase")), f"is now {facts.get('phase')}")
    return f"Competition {title} {words}"
