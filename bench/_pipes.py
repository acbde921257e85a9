"""The floor for a turn: one JSON line ping-ponged between two plain Python processes."""

from __future__ import annotations

import json
import statistics
import subprocess
import sys
import time

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
    small batches between other work (and see the same load as that work)."""

    def __init__(self) -> None:
        self.child = subprocess.Popen(
            [sys.executable, "-c", ECHO], stdin=subprocess.PIPE, stdout=subprocess.PIPE, bufsize=0
        )
        assert self.child.stdin is not None
        assert self.child.stdout is not None
        self.stdin = self.child.stdin
        self.stdout = self.child.stdout

    def roundtrips(self, count: int) -> list[float]:
        """Seconds per round trip of a turn-sized JSON message, ``count`` times."""
        times = []
        for _ in range(count):
            started = time.perf_counter()
            self.stdin.write(MESSAGE)
            reply = self.stdout.readline()
            json.loads(reply)
            times.append(time.perf_counter() - started)
        return times

    def close(self) -> None:
        self.stdin.close()
        self.child.wait()


def raw_pipe_roundtrips(count: int) -> list[float]:
    """Seconds per round trip of a turn-sized JSON message, ``count`` times."""
    pipe = RawPipe()
    try:
        return pipe.roundtrips(count)
    finally:
        pipe.close()


if __name__ == "__main__":
    print(statistics.median(raw_pipe_roundtrips(2000)) * 1e6)
