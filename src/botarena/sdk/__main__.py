"""``python -m botarena.sdk [--main FILE]``: serve protocol v1 for a Kaggle-style agent.

The real stdout carries the protocol only: the process's file descriptor 1 is pointed at
stderr, so ``print()`` — from Python or from C code — lands in the agent's log. Likewise the
agent cannot read protocol messages meant for the shim: descriptor 0 becomes /dev/null.

With ``--pipes DIR`` (or ``BOTARENA_PROTOCOL_PIPES=DIR``) the protocol and the log go through
the named pipes ``DIR/in``, ``DIR/out`` and ``DIR/err`` instead of the process's own stdin,
stdout and stderr: a match pod's referee reaches an agent in another container that way.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import sys
import traceback
from pathlib import Path
from typing import Any, BinaryIO

from botarena.sdk.loader import AgentFunction, AgentLoadError, load_agent
from botarena.sdk.pipes import PIPES_ENV, use_pipes
from botarena.sdk.structs import Struct

PROTOCOL_VERSION = 1


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m botarena.sdk")
    parser.add_argument("--main", default="main.py", help="the agent's file (default main.py)")
    parser.add_argument(
        "--pipes",
        default=os.environ.get(PIPES_ENV) or None,
        help=f"a folder of named pipes in, out, err to speak through (or ${PIPES_ENV})",
    )
    args = parser.parse_args(argv)
    if args.pipes:
        use_pipes(Path(args.pipes))
    protocol_in, protocol_out = _take_protocol_streams()
    channel = _Channel(protocol_in, protocol_out)
    hello = channel.receive()
    if hello is None or hello.get("type") != "hello":
        return _fail(channel, "expected a hello message first")
    if hello.get("protocol") != PROTOCOL_VERSION:
        return _fail(channel, f"protocol {hello.get('protocol')} is not supported (1 is)")
    try:
        agent = load_agent(Path(args.main).resolve())
    except AgentLoadError as exc:
        return _fail(channel, str(exc))
    except BaseException as exc:  # the agent's module-level code failed
        traceback.print_exc()
        return _fail(channel, f"loading the agent failed: {type(exc).__name__}: {exc}")
    channel.send({"type": "ready"})
    return _serve(channel, agent)


def _serve(channel: _Channel, agent: AgentFunction) -> int:
    while True:
        message = channel.receive()
        if message is None or message.get("type") == "end":
            return 0
        if message.get("type") != "turn":
            continue
        # Objects arrive as Structs already (see _Channel), at any depth.
        observation = message.get("observation", Struct())
        configuration = message.get("configuration", Struct())
        try:
            action = agent(observation, configuration)
        except BaseException as exc:
            traceback.print_exc()
            return _fail(channel, f"agent raised {type(exc).__name__}: {exc}")
        sys.stdout.flush()
        try:
            channel.send({"action": action})
        except (TypeError, ValueError) as exc:
            return _fail(channel, f"agent returned an action that is not JSON: {exc}")


class _Channel:
    """JSON lines in and out over the protocol's private descriptors.

    Every JSON object read becomes a :class:`Struct` as it is parsed, so a turn is walked
    once, not parsed and then copied; the decoder and the encoder are made once, not at
    every message as ``json.loads``/``json.dumps`` with options do.
    """

    def __init__(self, stream_in: BinaryIO, stream_out: BinaryIO) -> None:
        self.stream_in = stream_in
        self.stream_out = stream_out
        self.decoder = json.JSONDecoder(object_pairs_hook=Struct)
        self.encoder = json.JSONEncoder(separators=(",", ":"), default=_plain)

    def receive(self) -> dict[str, Any] | None:
        line = self.stream_in.readline()
        if not line:
            return None
        message = self.decoder.decode(line.decode())
        return message if isinstance(message, dict) else {}

    def send(self, message: dict[str, Any]) -> None:
        self.stream_out.write((self.encoder.encode(message) + "\n").encode())


def _plain(value: Any) -> Any:
    # numpy scalars and arrays, and anything else that knows its plain form.
    for method in ("item", "tolist"):
        convert = getattr(value, method, None)
        if callable(convert):
            return convert()
    if hasattr(value, "__index__"):
        return value.__index__()
    raise TypeError(f"{type(value).__name__} is not JSON serialisable")


def _take_protocol_streams() -> tuple[BinaryIO, BinaryIO]:
    # Buffered reading is safe: the referee sends nothing more until this process answers.
    protocol_in = os.fdopen(os.dup(0), "rb")
    protocol_out = os.fdopen(os.dup(1), "wb", buffering=0)
    devnull = os.open(os.devnull, os.O_RDONLY)
    os.dup2(devnull, 0)
    os.close(devnull)
    os.dup2(2, 1)
    sys.stdin = open(os.devnull, encoding="utf-8")  # noqa: SIM115 - lives as long as the process
    sys.stdout = os.fdopen(1, "w", buffering=1, encoding="utf-8", closefd=False)
    return protocol_in, protocol_out


def _fail(channel: _Channel, message: str) -> int:
    print(f"botarena: {message}", file=sys.stderr, flush=True)
    with contextlib.suppress(OSError):
        channel.send({"type": "error", "message": message})
    return 1


if __name__ == "__main__":
    sys.exit(main())
