"""What travels on the event bus: a topic and a small JSON body, and its wire form."""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field

Scalar = str | int | float | bool | None

# PostgreSQL refuses NOTIFY payloads of 8000 bytes or more; notices carry ids and offsets,
# never log text, so they stay far below this.
MAX_PAYLOAD_BYTES = 7900


@dataclass(frozen=True)
class Notice:
    """Something happened on ``topic`` (``submission:<id>``, ``match:<id>``,
    ``leaderboard:<game>``); ``data`` says what, in a few scalars.

    ``latest``: only the newest notice of this topic matters (a log's new size), so a relay
    may drop older ones it has not sent yet.
    """

    topic: str
    data: Mapping[str, Scalar] = field(default_factory=dict)
    latest: bool = False

    def key(self) -> str:
        """The notice as one string: equal notices have equal keys."""
        return json.dumps([self.topic, dict(self.data), self.latest], sort_keys=True)


def encode(notice: Notice, origin: str) -> str:
    """The NOTIFY payload of ``notice`` sent by the bus ``origin``."""
    payload = json.dumps(
        {"o": origin, "t": notice.topic, "d": dict(notice.data), "l": notice.latest},
        separators=(",", ":"),
    )
    if len(payload.encode()) > MAX_PAYLOAD_BYTES:
        raise ValueError(f"a notice on {notice.topic!r} is too large to relay")
    return payload


def decode(payload: str) -> tuple[str, Notice] | None:
    """The sender and the notice of a NOTIFY payload, or None for anything else."""
    try:
        body = json.loads(payload)
        origin, topic, data = body["o"], body["t"], body["d"]
    except (ValueError, KeyError, TypeError):
        return None
    if not isinstance(origin, str) or not isinstance(topic, str) or not isinstance(data, dict):
        return None
    return origin, Notice(topic, data, bool(body.get("l")))
