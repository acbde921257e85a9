"""Protocol v1 between the referee and an agent: JSON lines over the agent's stdin and stdout.

Referee → agent: ``hello`` once, ``turn`` for each move, ``end`` at the end.
Agent → referee: ``{"type": "ready"}`` after hello, ``{"action": …}`` for each turn, and
optionally ``{"type": "error", "message"}`` before giving up. See docs/protocol.md.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

PROTOCOL_VERSION = 1
# A reply longer than this is refused (INVALID) instead of being buffered without end.
MAX_REPLY_BYTES = 64 * 1024
# Made once: ``json.dumps`` with options builds a new encoder at every call.
_ENCODER = json.JSONEncoder(separators=(",", ":"))


def encode(message: dict[str, Any]) -> bytes:
    """One message as a JSON line."""
    return (_ENCODER.encode(message) + "\n").encode()


def hello(game: str, player: int, configuration: dict[str, Any]) -> bytes:
    return encode(
        {
            "type": "hello",
            "protocol": PROTOCOL_VERSION,
            "game": game,
            "player": player,
            "configuration": configuration,
        }
    )


def turn(observation: dict[str, Any], configuration: dict[str, Any]) -> bytes:
    return TurnEncoder(configuration)(observation)


class TurnEncoder:
    """Turn messages of one match: the configuration, the same at every turn, is encoded
    once. The bytes are those of :func:`encode` on the whole message."""

    def __init__(self, configuration: dict[str, Any]) -> None:
        self._tail = f',"configuration":{_ENCODER.encode(configuration)}}}\n'.encode()

    def __call__(self, observation: dict[str, Any]) -> bytes:
        return b'{"type":"turn","observation":' + _ENCODER.encode(observation).encode() + self._tail


def end(scores: list[float]) -> bytes:
    return encode({"type": "end", "scores": scores})


@dataclass(frozen=True)
class Reply:
    """What one line from an agent means: an action, readiness, a declared error, or garbage."""

    kind: str  # "action", "ready", "error" or "garbage"
    action: Any = None
    message: str = ""


def parse_reply(line: bytes) -> Reply:
    """Read one line an agent wrote (without its newline)."""
    try:
        message = json.loads(line)
    except (UnicodeDecodeError, ValueError):
        return Reply("garbage", message=f"reply is not JSON: {_preview(line)}")
    if not isinstance(message, dict):
        return Reply("garbage", message=f"reply is not a JSON object: {_preview(line)}")
    kind = message.get("type")
    if kind == "ready":
        return Reply("ready")
    if kind == "error":
        return Reply("error", message=str(message.get("message", "the agent reported an error")))
    if "action" in message:
        return Reply("action", action=message["action"])
    return Reply("garbage", message=f"reply has no action: {_preview(line)}")


def _preview(line: bytes, limit: int = 80) -> str:
    text = line[:limit].decode("utf-8", errors="replace")
    return repr(text + ("…" if len(line) > limit else ""))
