"""The shell agent speaks protocol v1 by itself: ready, legal columns, and a clean exit.

It is run with ``sh`` as a subprocess and answered line by line, so a reply that is not
flushed at once makes the test hang (and time out) instead of passing by luck at exit.
"""

from __future__ import annotations

import json
import os
import subprocess
import tomllib
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

FOLDER = Path(__file__).resolve().parents[2] / "examples" / "agents" / "executable-random"
CONFIGURATION = {
    "rows": 6,
    "columns": 7,
    "inarow": 4,
    "actTimeout": 2.0,
    "overageTime": 60.0,
    "episodeSteps": 1000,
    "agentTimeout": 60.0,
}

pytestmark = pytest.mark.timeout(30)


class Bot:
    def __init__(self) -> None:
        self.process = subprocess.Popen(
            ["sh", str(FOLDER / "bot")],
            cwd=FOLDER,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )

    def send(self, message: dict[str, Any]) -> None:
        assert self.process.stdin is not None
        self.process.stdin.write(json.dumps(message, separators=(",", ":")) + "\n")
        self.process.stdin.flush()

    def receive(self) -> Any:
        assert self.process.stdout is not None
        line = self.process.stdout.readline()
        assert line.endswith("\n"), f"no complete reply line: {line!r}"
        return json.loads(line)

    def hello(self, player: int) -> Any:
        self.send(
            {
                "type": "hello",
                "protocol": 1,
                "game": "connectx",
                "player": player,
                "configuration": CONFIGURATION,
            }
        )
        return self.receive()

    def turn(self, board: list[int]) -> Any:
        observation = {"board": board, "mark": 1, "step": 0, "remainingOverageTime": 60.0}
        self.send({"type": "turn", "observation": observation, "configuration": CONFIGURATION})
        return self.receive()["action"]


@pytest.fixture
def bot() -> Iterator[Bot]:
    bot = Bot()
    yield bot
    if bot.process.poll() is None:
        bot.process.kill()
    bot.process.wait()


def board_with_full_columns(full: set[int]) -> list[int]:
    board = [0] * 42
    for column in full:
        for row in range(6):
            board[row * 7 + column] = 1 + (row % 2)
    return board


def test_declares_its_command_and_is_executable() -> None:
    settings = tomllib.loads((FOLDER / "botarena.toml").read_text(encoding="utf-8"))
    assert settings["agent"]["command"] == ["./bot"]
    assert os.access(FOLDER / "bot", os.X_OK)
    assert (FOLDER / "bot").read_text(encoding="utf-8").startswith("#!/bin/sh\n")


def test_hello_turn_end(bot: Bot) -> None:
    assert bot.hello(0) == {"type": "ready"}
    board = board_with_full_columns({0, 1, 2, 4, 5, 6})
    assert bot.turn(board) == 3
    bot.send({"type": "end", "scores": [0.5, 0.5]})
    assert bot.process.wait(timeout=10) == 0
    assert bot.process.stdout is not None
    assert bot.process.stdout.read() == ""


def test_picks_random_open_columns(bot: Bot) -> None:
    assert bot.hello(1) == {"type": "ready"}
    board = board_with_full_columns({0, 2, 3, 5, 6})
    actions = [bot.turn(board) for _ in range(20)]
    assert set(actions) == {1, 4}
    assert bot.turn([0] * 42) in range(7)
    bot.send({"type": "end", "scores": [1.0, 0.0]})
    assert bot.process.wait(timeout=10) == 0
