"""Protocol v1's messages: what the referee writes and how it reads a reply."""

from __future__ import annotations

import json

from botarena.executor import protocol


def test_a_turn_is_the_whole_message_encoded_with_its_configuration_made_once() -> None:
    configuration = {"rows": 6, "columns": 7, "odd": ["é", {"a": None}]}
    turns = protocol.TurnEncoder(configuration)
    for observation in ({"board": [0] * 42, "mark": 1}, {"text": 'quote " and \\n'}):
        message = {"type": "turn", "observation": observation, "configuration": configuration}
        line = turns(observation)
        assert line == protocol.encode(message) == protocol.turn(observation, configuration)
        assert line.endswith(b"\n") and line.count(b"\n") == 1
        assert json.loads(line) == message


def test_replies_by_kind() -> None:
    assert protocol.parse_reply(b'{"action": 3}') == protocol.Reply("action", action=3)
    assert protocol.parse_reply(b'{"type":"ready"}').kind == "ready"
    assert protocol.parse_reply(b'{"type":"error","message":"no"}').message == "no"
    for garbage in (b"3", b"not json", b'{"move": 3}', b"\xff"):
        assert protocol.parse_reply(garbage).kind == "garbage"
