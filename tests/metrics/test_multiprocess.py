"""``/metrics`` of several worker processes (``PROMETHEUS_MULTIPROC_DIR``): counters add up
over every process, the live gauges over the processes still alive (once a dead one is
marked so, as the command running the workers must)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from prometheus_client.parser import text_string_to_metric_families

WORKER = """
import os
from botarena.metrics import definitions
definitions.handed_back("builds")
definitions.listeners_changed(+2)
print(os.getpid())
"""
SCRAPE = """
import sys
from prometheus_client import multiprocess
from botarena.metrics.exposition import render
for pid in sys.argv[1:]:
    multiprocess.mark_process_dead(int(pid))
sys.stdout.write(render().decode())
"""


def run(code: str, folder: Path, *args: str) -> str:
    environment = {**os.environ, "PROMETHEUS_MULTIPROC_DIR": str(folder)}
    done = subprocess.run(
        [sys.executable, "-c", code, *args],
        env=environment,
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    return done.stdout


def samples(text: str) -> dict[str, float]:
    return {
        f"{s.name}{sorted(s.labels.items())}": s.value
        for family in text_string_to_metric_families(text)
        for s in family.samples
    }


def test_workers_metrics_are_merged(tmp_path: Path) -> None:
    first = run(WORKER, tmp_path).strip()
    run(WORKER, tmp_path)
    merged = samples(run(SCRAPE, tmp_path))
    assert merged["botarena_lease_handbacks_total[('queue', 'builds')]"] == 2
    assert merged["botarena_event_bus_listeners[]"] == 4
    # One worker gone and marked so: its listeners no longer count, its counts still do.
    after = samples(run(SCRAPE, tmp_path, first))
    assert after["botarena_lease_handbacks_total[('queue', 'builds')]"] == 2
    assert after["botarena_event_bus_listeners[]"] == 2
