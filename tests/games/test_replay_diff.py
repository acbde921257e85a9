"""Two replays of one match compared: the first place where they part, or none."""

from __future__ import annotations

import copy
from typing import Any

from botarena.games.replay_diff import Difference, first_difference

RECORDED: dict[str, Any] = {
    "game": "rps",
    "configuration": {"episodeSteps": 3},
    "seed": 5,
    "steps": [
        {"step": 0, "actions": {}, "frame": {"score": [0, 0]}},
        {"step": 1, "actions": {"0": 1, "1": 2}, "frame": {"score": [0, 1]}},
        {"step": 2, "actions": {"0": 0, "1": 0}, "frame": {"score": [0, 1]}},
    ],
    "winner": 1,
    "scores": [0.0, 1.0],
    "agents": [{"status": "done", "reason": None, "log": "a"}, {"status": "done", "reason": None}],
}


def _changed(path: tuple[Any, ...], value: Any) -> dict[str, Any]:
    replay = copy.deepcopy(RECORDED)
    target = replay
    for key in path[:-1]:
        target = target[key]
    target[path[-1]] = value
    return replay


def test_the_same_match_with_other_logs_is_the_same() -> None:
    again = _changed(("agents", 0, "log"), "something else")
    assert first_difference(RECORDED, again) is None


def test_the_first_difference_is_named_with_its_step() -> None:
    moved = _changed(("steps", 2, "actions", "1"), 1)
    moved["steps"][1]["frame"] = {"score": [9, 9]}  # a later step's difference is not first
    assert first_difference(RECORDED, moved) == Difference(
        "frame", {"score": [0, 1]}, {"score": [9, 9]}, 1
    )
    assert first_difference(RECORDED, _changed(("steps", 2, "actions", "1"), 1)) == Difference(
        "actions", {"0": 0, "1": 0}, {"0": 0, "1": 1}, 2
    )


def test_differences_outside_the_steps() -> None:
    assert first_difference(RECORDED, _changed(("seed",), 6)) == Difference("seed", 5, 6)
    other = _changed(("configuration",), {"episodeSteps": 4})
    assert first_difference(RECORDED, other) == Difference(
        "configuration", {"episodeSteps": 3}, {"episodeSteps": 4}
    )
    assert first_difference(RECORDED, _changed(("winner",), None)) == Difference("winner", 1, None)
    failed = _changed(("agents", 1, "status"), "timeout")
    assert first_difference(RECORDED, failed) == Difference(
        "agents' outcomes", ["done", "done"], ["done", "timeout"]
    )


def test_a_shorter_game_differs_at_its_first_missing_step() -> None:
    shorter = copy.deepcopy(RECORDED)
    del shorter["steps"][2]
    difference = first_difference(RECORDED, shorter)
    assert difference == Difference("number of steps", 3, 2, 2)
    assert difference.as_json() == {
        "step": 2,
        "what": "number of steps",
        "recorded": 3,
        "replayed": 2,
    }
