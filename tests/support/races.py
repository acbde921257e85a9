"""Callables run at the same moment in threads, for tests of what two requests do at once."""

from __future__ import annotations

import threading
from collections.abc import Callable


def race(workers: list[Callable[[], object]]) -> list[object]:
    """Run the callables at the same moment; each result or raised error, in order."""
    barrier = threading.Barrier(len(workers))
    results: list[object] = [None] * len(workers)

    def run(index: int) -> None:
        barrier.wait()
        try:
            results[index] = workers[index]()
        except Exception as exc:  # collected and asserted by the test
            results[index] = exc

    threads = [threading.Thread(target=run, args=(i,)) for i in range(len(workers))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    return results
