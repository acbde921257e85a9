"""The floor for a turn: one JSON line ping-ponged between two plain Python processes."""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
import time
from typing import Any

ECHO = (
    "import json, sys\n"
    "for line in sys.stdin:\n"
    "    message = json.loads(line)\n"
    "    action = len(message['observation']['board']) % 7\n"
    "    sys.stdout.write(json.dumps({'action': action}) + '\\n')\n"
    "    sys.stdout.flush()\n"
)
MESSAGE = (
    json.dumps(
        {
            "type": "turn",
            "observation": {"board": [0] * 42, "mark": 1, "remainingOverageTime": 60},
            "configuration": {"rows": 6, "columns": 7, "inarow": 4, "actTimeout": 2},
        }
    )
    + "\n"
).encode()


class RawPipe:
    """A plain Python echo process kept running, so that round trips can be measured in
    small batches between other work (and see the same load as that work); or, given
    ``child``, the same echo started elsewhere (in a sandbox) with pipes like Popen's."""

    def __init__(self, child: Any = None) -> None:
        if child is None:
            child = subprocess.Popen(
                [sys.executable, "-c", ECHO],
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                bufsize=0,
            )
        self.child = child
        self.stdin = child.stdin
        self.stdout = child.stdout
        for stream in (self.stdin, self.stdout):
            os.set_blocking(stream.fileno(), True)

    def roundtrips(self, count: int) -> list[float]:
        """Seconds per round trip of a turn-sized JSON message, ``count`` times."""
        times = []
        for _ in range(count):
            started = time.perf_counter()
            self.stdin.write(MESSAGE)
            self.stdin.flush()
            reply = self.stdout.readline()
            json.loads(reply)
            times.append(time.perf_counter() - started)
        return times

    def close(self) -> None:
        self.stdin.close()
        self.child.wait(10)
        if hasattr(self.child, "close"):  # a sandbox: its cgroups go too
            self.child.close()


def raw_pipe_roundtrips(count: int) -> list[float]:
    """Seconds per round trip of a turn-sized JSON message, ``count`` times."""
    pipe = RawPipe()
    try:
        return pipe.roundtrips(count)
    finally:
        pipe.close()


if __name__ == "__main__":
    print(statistics.median(raw_pipe_roundtrips(2000)) * 1e6)
