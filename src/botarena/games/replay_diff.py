"""Two replays of one match compared (``botarena rerun``): the configuration, then every step's
actions and frame, then the result; the first place where they part, or none."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Difference:
    """Where a replayed match first departs from the recorded one.

    ``step`` is the step's number (None for a difference outside the steps: the
    configuration, the seed or the result); ``what`` says in a few words what differs;
    ``recorded`` and ``replayed`` are the two values (for a step: its actions by player).
    """

    what: str
    recorded: Any
    replayed: Any
    step: int | None = None

    def as_json(self) -> dict[str, Any]:
        return {
            "step": self.step,
            "what": self.what,
            "recorded": self.recorded,
            "replayed": self.replayed,
        }


def first_difference(recorded: dict[str, Any], replayed: dict[str, Any]) -> Difference | None:
    """The first difference between two replays of a match, or None when they are the same
    in their configuration, seed, every step's actions and frame, and their result (winner,
    scores, how each agent ended). Agents' logs and timings are not compared."""
    for key in ("game", "seed", "configuration"):
        if recorded.get(key) != replayed.get(key):
            return Difference(key, recorded.get(key), replayed.get(key))
    recorded_steps = recorded.get("steps") or []
    replayed_steps = replayed.get("steps") or []
    for index, (before, again) in enumerate(zip(recorded_steps, replayed_steps, strict=False)):
        number = before.get("step", index)
        if _actions(before) != _actions(again):
            return Difference("actions", _actions(before), _actions(again), number)
        if before.get("frame") != again.get("frame"):
            return Difference("frame", before.get("frame"), again.get("frame"), number)
    if len(recorded_steps) != len(replayed_steps):
        shorter = min(len(recorded_steps), len(replayed_steps))
        return Difference(
            "number of steps",
            len(recorded_steps),
            len(replayed_steps),
            _step_at(recorded_steps, shorter) or _step_at(replayed_steps, shorter),
        )
    for key in ("winner", "scores"):
        if recorded.get(key) != replayed.get(key):
            return Difference(key, recorded.get(key), replayed.get(key))
    ended = [_statuses(recorded), _statuses(replayed)]
    if ended[0] != ended[1]:
        return Difference("agents' outcomes", ended[0], ended[1])
    return None


def _actions(step: dict[str, Any]) -> dict[str, Any]:
    return {str(player): action for player, action in (step.get("actions") or {}).items()}


def _statuses(replay: dict[str, Any]) -> list[Any]:
    return [agent.get("status") for agent in replay.get("agents") or []]


def _step_at(steps: list[dict[str, Any]], index: int) -> int | None:
    return steps[index].get("step", index) if index < len(steps) else None
