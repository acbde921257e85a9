"""Kaggle's reference rate, measured in its own virtual environment (not a botarena dependency).

Run by match_throughput.py as ``python _kaggle.py GAMES``: plays ConnectX games between two
random agents in-process with kaggle-environments and prints the games per second as JSON.
"""

from __future__ import annotations

import json
import sys
import time


def main() -> None:
    games = int(sys.argv[1])
    from kaggle_environments import make  # the benchmark's own environment has it

    make("connectx", debug=False).run(["random", "random"])  # warm-up: imports, first render
    started = time.perf_counter()
    for _ in range(games):
        make("connectx", debug=False).run(["random", "random"])
    elapsed = time.perf_counter() - started
    print(json.dumps({"games": games, "seconds": elapsed, "games_per_second": games / elapsed}))


if __name__ == "__main__":
    main()
