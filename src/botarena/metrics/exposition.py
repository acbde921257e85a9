"""``/metrics``: this process's metrics in Prometheus' text format, or, when
``PROMETHEUS_MULTIPROC_DIR`` is set (several worker processes of one server), every live
process's, merged from the files each writes there.
"""

from __future__ import annotations

import os

from prometheus_client import CONTENT_TYPE_LATEST, REGISTRY, generate_latest
from prometheus_client.multiprocess import MultiProcessCollector
from prometheus_client.registry import Collector, CollectorRegistry

CONTENT_TYPE = CONTENT_TYPE_LATEST


def render(*extra: Collector) -> bytes:
    """The scrape's body: the metrics of :mod:`.definitions` (this process's or every
    process's) followed by ``extra`` collectors (the queues, read at scrape time)."""
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        merged = CollectorRegistry(auto_describe=False)
        MultiProcessCollector(merged)  # type: ignore[no-untyped-call]
        body = generate_latest(merged)
    else:
        body = generate_latest(REGISTRY)
    if extra:
        own = CollectorRegistry(auto_describe=False)
        for collector in extra:
            own.register(collector)
        body += generate_latest(own)
    return body
