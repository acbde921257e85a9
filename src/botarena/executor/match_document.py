"""What a referee that runs as a program of its own (``botarena referee``, in a match pod) is
given and gives back: the match's spec as JSON, and its result as one delimited JSON document
in its log plus a short summary for its termination message.

The result document holds exactly what the executor records for a match played in its own
process (status, winner, scores, each agent's outcome and captured log, turns, duration, the
replay). Agents' logs are inside the JSON, escaped, so nothing an agent prints can fake the
delimiters: the referee writes nothing else to its standard output.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from botarena.executor.logbuffer import DEFAULT_LOG_LIMIT
from botarena.executor.outcomes import AgentOutcome, AgentStatus, MatchResult, MatchStatus

RESULT_BEGIN = "----- botarena match result -----"
RESULT_END = "----- end of botarena match result -----"
# The kubelet keeps at most this much of a termination message.
TERMINATION_MESSAGE_LIMIT = 4096
_REASON_LIMIT = 300
# Time granted beyond the game's own clocks: agents' containers starting, the referee's own
# start and the pod's scheduling (images are usually already on the node).
START_ALLOWANCE_SECONDS = 120
# The most agents one match document may name (the largest game has 4 seats).
MAX_SEATS = 16


class MatchDocumentError(ValueError):
    """A spec or a result document that cannot be read."""


@dataclass(frozen=True)
class RefereeSpec:
    """One match for the referee program: no secret, nothing but what the game needs."""

    game: str
    configuration: dict[str, Any]
    seed: int
    agents: tuple[str, ...]  # names, player 0 first (for its log lines only)
    time_budget_seconds: int
    log_limit: int = DEFAULT_LOG_LIMIT
    startup_timeout: float | None = None  # default: the configuration's agentTimeout

    def to_json(self) -> str:
        return json.dumps(
            {
                "game": self.game,
                "configuration": self.configuration,
                "seed": self.seed,
                "agents": list(self.agents),
                "timeBudgetSeconds": self.time_budget_seconds,
                "logLimit": self.log_limit,
                "startupTimeout": self.startup_timeout,
            },
            separators=(",", ":"),
        )

    @classmethod
    def from_json(cls, text: str) -> RefereeSpec:
        try:
            body = json.loads(text)
            spec = cls(
                game=str(body["game"]),
                configuration=dict(body["configuration"]),
                seed=int(body["seed"]),
                agents=tuple(str(name) for name in body["agents"]),
                time_budget_seconds=int(body["timeBudgetSeconds"]),
                log_limit=int(body.get("logLimit", DEFAULT_LOG_LIMIT)),
                startup_timeout=_seconds(body.get("startupTimeout")),
            )
        except (ValueError, TypeError, KeyError) as exc:
            raise MatchDocumentError(f"not a referee spec: {exc}") from exc
        if not 2 <= len(spec.agents) <= MAX_SEATS:
            raise MatchDocumentError(f"a match takes 2 to {MAX_SEATS} agents")
        return spec


def _seconds(value: Any) -> float | None:
    return None if value is None else float(value)


def time_budget_seconds(configuration: dict[str, Any], players: int = 2) -> int:
    """The longest a match of ``configuration`` can take by its own clocks (every player's
    startup, every step at the full per-turn time, every overage bank spent), plus the time
    its pod needs to start. A match pod that runs longer is killed by its deadline."""
    act = float(configuration.get("actTimeout", 2))
    overage = float(configuration.get("overageTime", 60))
    startup = float(configuration.get("agentTimeout", 60))
    steps = int(configuration.get("episodeSteps", 1000))
    playing = startup + steps * act * players + overage * players
    return int(playing) + 1 + START_ALLOWANCE_SECONDS


def result_document(result: MatchResult) -> dict[str, Any]:
    """Everything the executor records of ``result`` (not the game's last state)."""
    return {
        "status": result.status.value,
        "winner": result.winner,
        "scores": result.scores,
        "agents": [
            {"status": agent.status.value, "reason": agent.reason, "log": agent.log}
            for agent in result.agents
        ],
        "turns": result.turns,
        "durationMs": result.duration_ms,
        "replay": result.replay,
        "error": result.error,
    }


def result_from_document(body: Any) -> MatchResult:
    """The result a referee wrote; raises MatchDocumentError on anything malformed."""
    try:
        agents = [
            AgentOutcome(AgentStatus(a["status"]), a.get("reason"), str(a.get("log", "")))
            for a in body["agents"]
        ]
        winner = body["winner"]
        return MatchResult(
            status=MatchStatus(body["status"]),
            winner=None if winner is None else int(winner),
            scores=[float(score) for score in body["scores"]],
            agents=agents,
            turns=int(body["turns"]),
            duration_ms=int(body["durationMs"]),
            replay=dict(body.get("replay") or {}),
            error=body.get("error"),
        )
    except (ValueError, TypeError, KeyError, AttributeError) as exc:
        raise MatchDocumentError(f"not a match result: {exc!r}") from exc


def result_lines(result: MatchResult) -> str:
    """The delimited document the referee prints: begin line, one JSON line, end line."""
    body = json.dumps(result_document(result), separators=(",", ":"))
    return f"{RESULT_BEGIN}\n{body}\n{RESULT_END}\n"


def find_result(lines: Iterable[str]) -> MatchResult | None:
    """The result between the delimiters in a referee's log, or None when it has none (the
    referee died before writing it); the last one counts."""
    found: str | None = None
    state = "outside"
    body = ""
    for raw in lines:
        line = raw.rstrip("\r\n")
        if state == "outside":
            if line == RESULT_BEGIN:
                state = "body"
        elif state == "body":
            body, state = line, "end"
        else:
            if line == RESULT_END:
                found = body
            state = "body" if line == RESULT_BEGIN else "outside"
    if found is None:
        return None
    try:
        return result_from_document(json.loads(found))
    except json.JSONDecodeError as exc:
        raise MatchDocumentError(f"the result is not JSON: {exc}") from exc


def termination_summary(result: MatchResult) -> str:
    """A short JSON summary (no replay, no logs) that fits a termination message."""
    summary = result.summary()
    for agent in summary["agents"]:
        if agent.get("reason"):
            agent["reason"] = agent["reason"][:_REASON_LIMIT]
    if summary.get("error"):
        summary["error"] = summary["error"][:_REASON_LIMIT]
    text = json.dumps(summary, separators=(",", ":"))
    if len(text.encode()) > TERMINATION_MESSAGE_LIMIT:
        text = json.dumps({"status": result.status.value, "winner": result.winner})
    return text
