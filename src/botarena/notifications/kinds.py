"""The events a user may be notified of: their names on the wire and in words."""

from __future__ import annotations

from enum import StrEnum


class EventKind(StrEnum):
    """What happened; the value is the ``X-Botarena-Event`` header and the payload's ``event``."""

    BUILD_FINISHED = "build.finished"
    SUBMISSION_FAILED = "submission.failed"
    CHALLENGE_RECEIVED = "challenge.received"
    TOURNAMENT_ROUND = "tournament.round"
    TOURNAMENT_FINISHED = "tournament.finished"
    COMPETITION_PHASE = "competition.phase"
    # Sent only by the "send a test event" action, whatever the endpoint subscribes to.
    PING = "ping"


# What an endpoint or an e-mail preference may subscribe to.
SUBSCRIBABLE: tuple[EventKind, ...] = (
    EventKind.BUILD_FINISHED,
    EventKind.SUBMISSION_FAILED,
    EventKind.CHALLENGE_RECEIVED,
    EventKind.TOURNAMENT_ROUND,
    EventKind.TOURNAMENT_FINISHED,
    EventKind.COMPETITION_PHASE,
)

LABELS: dict[EventKind, str] = {
    EventKind.BUILD_FINISHED: "A build finished (built or failed, with the reason)",
    EventKind.SUBMISSION_FAILED: "A submission failed at run time",
    EventKind.CHALLENGE_RECEIVED: "Someone challenged one of your agents",
    EventKind.TOURNAMENT_ROUND: "A tournament round you play in ended",
    EventKind.TOURNAMENT_FINISHED: "A tournament you play in finished",
    EventKind.COMPETITION_PHASE: (
        "A competition you are in moved on (opened, deadline passed, final results)"
    ),
    EventKind.PING: "A test event",
}
