"""The agent shim: Kaggle's contract over protocol v1, prints into the log, clear failures."""

from __future__ import annotations

import copy
import json
import pickle
import subprocess
import sys
from pathlib import Path

import pytest

from botarena.sdk.loader import AgentLoadError, load_agent
from botarena.sdk.structs import Struct, structify

HELLO = {"type": "hello", "protocol": 1, "game": "connectx", "player": 0, "configuration": {}}


def _turn(board: list[int]) -> dict[str, object]:
    return {
        "type": "turn",
        "observation": {"board": board, "mark": 1, "remainingOverageTime": 60},
        "configuration": {"columns": 3, "rows": 1, "inarow": 2},
    }


def _converse(folder: Path, *messages: dict[str, object]) -> tuple[list[dict], str, int]:
    lines = "".join(json.dumps(m) + "\n" for m in messages)
    done = subprocess.run(
        [sys.executable, "-m", "botarena.sdk", "--main", str(folder / "main.py")],
        input=lines.encode(),
        capture_output=True,
        timeout=30,
        check=False,
    )
    replies = [json.loads(line) for line in done.stdout.decode().splitlines()]
    return replies, done.stderr.decode(), done.returncode


def _agent(tmp_path: Path, source: str) -> Path:
    (tmp_path / "main.py").write_text(source)
    return tmp_path


def test_structs_read_both_ways() -> None:
    obs = structify({"board": [0, 1], "nested": {"a": [{"b": 2}]}})
    assert isinstance(obs, Struct)
    assert obs.board == obs["board"] == [0, 1]
    assert obs.nested.a[0].b == 2
    obs.extra = 5
    assert obs["extra"] == 5
    with pytest.raises(AttributeError):
        _ = obs.missing


def test_structs_stay_one_mapping_after_attribute_reads() -> None:
    obs = structify({"board": [0, 1], "nested": {"b": 2}})
    assert obs.board == [0, 1]  # the first read makes the Struct its own namespace
    obs.board = [5]
    obs["mark"] = 2
    assert obs["board"] == [5] and obs.mark == 2
    del obs.mark
    assert "mark" not in obs
    with pytest.raises(AttributeError):
        _ = obs.mark
    pickled = pickle.loads(pickle.dumps(obs))  # noqa: S301 - our own object, just made
    for copied in (copy.copy(obs), copy.deepcopy(obs), pickled):
        assert type(copied) is Struct and copied == obs
        copied.extra = 1
        assert copied["extra"] == 1 and "extra" not in obs
    deep = copy.deepcopy(obs)
    deep.nested.b = 3
    assert obs.nested.b == 2


def test_dict_methods_win_over_keys_of_their_name() -> None:
    obs = structify({"items": 3, "board": [0]})
    assert obs.board == [0]
    assert callable(obs.items) and obs["items"] == 3


def test_the_shim_hands_the_agent_structs_at_any_depth(tmp_path: Path) -> None:
    folder = _agent(
        tmp_path,
        "def agent(obs, conf):\n"
        "    assert type(obs).__name__ == type(conf).__name__ == 'Struct'\n"
        "    assert type(obs.deep[0]).__name__ == 'Struct'\n"
        "    return obs.deep[0].column + conf.columns\n",
    )
    turn = _turn([0, 0, 0])
    turn["observation"]["deep"] = [{"column": 1}]  # type: ignore[index]
    replies, log, code = _converse(folder, HELLO, turn)
    assert replies == [{"type": "ready"}, {"action": 4}], log
    assert code == 0


def test_a_whole_conversation(tmp_path: Path) -> None:
    folder = _agent(
        tmp_path,
        "def agent(obs, conf):\n"
        "    print('thinking about', obs.board)\n"
        "    return next(c for c in range(conf.columns) if obs['board'][c] == 0)\n",
    )
    replies, log, code = _converse(
        folder, HELLO, _turn([1, 0, 0]), _turn([1, 2, 0]), {"type": "end", "scores": [1, 0]}
    )
    assert replies == [{"type": "ready"}, {"action": 1}, {"action": 2}]
    assert "thinking about [1, 0, 0]" in log
    assert code == 0


def test_last_callable_when_no_agent_is_named(tmp_path: Path) -> None:
    folder = _agent(
        tmp_path,
        "from os.path import join\n"
        "def helper(x):\n    return 0\n"
        "def my_bot(obs, conf):\n    return 2\n"
        "LIMIT = 3\n",
    )
    assert load_agent(folder / "main.py")(None, None) == 2


def test_numpy_like_actions_become_plain_json(tmp_path: Path) -> None:
    folder = _agent(
        tmp_path,
        "class Int64:\n"
        "    def __init__(self, v): self.v = v\n"
        "    def item(self): return self.v\n"
        "def agent(obs, conf):\n    return Int64(1)\n",
    )
    replies, _log, _code = _converse(folder, HELLO, _turn([0, 0, 0]))
    assert replies[1] == {"action": 1}


def test_an_exception_is_reported_with_its_message(tmp_path: Path) -> None:
    folder = _agent(tmp_path, "def agent(obs, conf):\n    raise ValueError('no idea')\n")
    replies, log, code = _converse(folder, HELLO, _turn([0, 0, 0]))
    assert replies[-1] == {"type": "error", "message": "agent raised ValueError: no idea"}
    assert "Traceback" in log and code == 1


def test_load_failures_are_clear(tmp_path: Path) -> None:
    broken = _agent(tmp_path, "def agent(obs, conf)\n    return 0\n")
    with pytest.raises(AgentLoadError, match="syntax error"):
        load_agent(broken / "main.py")
    (tmp_path / "main.py").write_text("X = 1\n")
    with pytest.raises(AgentLoadError, match="defines no function"):
        load_agent(tmp_path / "main.py")
    replies, _log, code = _converse(tmp_path, HELLO)
    assert replies == [
        {
            "type": "error",
            "message": "main.py defines no function: write def agent(observation, configuration)",
        }
    ]
    assert code == 1


def test_the_agent_cannot_touch_the_protocol_streams(tmp_path: Path) -> None:
    folder = _agent(
        tmp_path,
        "import os, sys\n"
        "def agent(obs, conf):\n"
        "    os.write(1, b'raw write to fd 1\\n')\n"
        "    sys.stdout.write('via sys.stdout\\n')\n"
        "    assert sys.stdin.read() == ''\n"
        "    return 0\n",
    )
    replies, log, _code = _converse(folder, HELLO, _turn([0, 0, 0]))
    assert replies == [{"type": "ready"}, {"action": 0}]
    assert "raw write to fd 1" in log and "via sys.stdout" in log


def test_the_wrong_protocol_version_is_refused(tmp_path: Path) -> None:
    folder = _agent(tmp_path, "def agent(o, c):\n    return 0\n")
    replies, _log, code = _converse(folder, {**HELLO, "protocol": 2})
    assert replies[0]["type"] == "error" and "protocol 2 is not supported" in replies[0]["message"]
    assert code == 1
