"""How a match and each agent in it ended."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any


class AgentStatus(StrEnum):
    """Per agent: played to the end, or what went wrong (the faulty agent loses)."""

    DONE = "DONE"
    ERROR = "ERROR"  # crashed, exited, killed for memory
    TIMEOUT = "TIMEOUT"
    INVALID = "INVALID"  # an illegal or unreadable action


class MatchStatus(StrEnum):
    """``finished`` counts; ``error`` is the platform's own failure and never counts."""

    FINISHED = "finished"
    ERROR = "error"


@dataclass
class AgentOutcome:
    """One agent's result and its captured stderr."""

    status: AgentStatus = AgentStatus.DONE
    reason: str | None = None
    log: str = ""

    def as_json(self) -> dict[str, Any]:
        return {"status": self.status.value, "reason": self.reason}


@dataclass
class MatchResult:
    """Everything a match leaves: outcome, scores, per-agent results, replay and timing."""

    status: MatchStatus
    winner: int | None
    scores: list[float]
    agents: list[AgentOutcome]
    turns: int
    duration_ms: int
    replay: dict[str, Any] = field(default_factory=dict)
    error: str | None = None
    final_state: Any = None  # the game's last state, for rendering; not part of the JSON
    # Seconds from each turn message written to its reply read: the platform's overhead plus
    # the agents' thinking. Measured, not stored.
    reply_seconds: list[float] = field(default_factory=list)
    # The replay as JSON text when it arrived so (an executor's message), checked to parse
    # as ``replay``: stored as received rather than encoded a second time.
    replay_json: str | None = None

    def replay_text(self) -> str:
        """The replay as the JSON text to store."""
        return self.replay_json if self.replay_json is not None else json.dumps(self.replay)

    def summary(self) -> dict[str, Any]:
        """The JSON that ``botarena play --json`` prints."""
        body: dict[str, Any] = {
            "status": self.status.value,
            "winner": self.winner,
            "scores": self.scores,
            "agents": [agent.as_json() for agent in self.agents],
            "turns": self.turns,
            "durationMs": self.duration_ms,
        }
        if self.error:
            body["error"] = self.error
        return body
