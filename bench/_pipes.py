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


def raw_pipe_roundtrips(count: int) -> list[float]:
    """Seconds per round trip of a turn-sized JSON message, ``count`` times."""
    child = subprocess.Popen(
        [sys.executable, "-c", ECHO], stdin=subprocess.PIPE, stdout=subprocess.PIPE, bufsize=0
    )
    assert child.stdin is not None
    assert child.stdout is not None
    message = (
        json.dumps(
            {
                "type": "turn",
                "observation": {"board": [0] * 42, "mark": 1, "remainingOverageTime": 60},
                "configuration": {"rows": 6, "columns": 7, "inarow": 4, "actTimeout": 2},
            }
        )
        + "\n"
    ).encode()
    reader = child.stdout
    times = []
    for _ in range(count):
        started = time.perf_counter()
        child.stdin.write(message)
        reply = reader.readline()
        json.loads(reply)
        times.append(time.perf_counter() - started)
    child.stdin.close()
    child.wait()
    return times


if __name__ == "__main__":
    print(statistics.median(raw_pipe_roundtrips(2000)) * 1e6)
