"""The queues' depths, read from the database at each scrape.

Counting rows at scrape time is authoritative whichever process claimed or queued a job (the
server's workers, another replica, an executor elsewhere), and costs one small query per
queue per scrape. The composition root hands in how to count (this package knows no table).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field

import structlog
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector

from botarena.metrics import definitions

log = structlog.get_logger(__name__)


@dataclass(frozen=True)
class QueueSample:
    """What the queues hold now."""

    builds_waiting: int
    match_waiting: int
    matches_in_flight: int
    builds_in_flight: Mapping[str, int] = field(default_factory=dict)  # by backend


class QueueCollector(Collector):
    """Gauges of :class:`QueueSample`, taken at each scrape; none when the database does not
    answer (a scrape never fails for it: ``/readyz`` says what is wrong)."""

    def __init__(self, sample: Callable[[], QueueSample]) -> None:
        self.sample = sample

    def collect(self) -> Iterator[GaugeMetricFamily]:
        try:
            now = self.sample()
        except Exception as exc:
            log.warning("reading the queues for metrics failed", error=type(exc).__name__)
            return
        yield GaugeMetricFamily(
            definitions.BUILD_QUEUE_DEPTH,
            "Builds waiting for a builder (pending, or a rebuild nobody holds yet).",
            value=now.builds_waiting,
        )
        in_flight = GaugeMetricFamily(
            definitions.BUILDS_IN_FLIGHT,
            "Builds a builder holds now, by the backend that claimed them.",
            labels=["backend"],
        )
        for backend, count in sorted(now.builds_in_flight.items()):
            in_flight.add_metric([backend], count)
        yield in_flight
        yield GaugeMetricFamily(
            definitions.MATCH_QUEUE_DEPTH,
            "Matches queued, waiting for an executor slot.",
            value=now.match_waiting,
        )
        yield GaugeMetricFamily(
            definitions.MATCHES_IN_FLIGHT,
            "Matches running on an executor now.",
            value=now.matches_in_flight,
        )
