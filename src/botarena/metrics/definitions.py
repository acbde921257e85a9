"""Every metric the platform exposes, defined once: one name, one meaning, bounded labels.

The code where things happen calls the small functions below (one line each); nothing else
creates a metric. The queue depths are not here: they are read from the database at scrape
time (:mod:`botarena.metrics.queues`), so every process reports the same truth.

Gauges that several processes each hold a part of (``PROMETHEUS_MULTIPROC_DIR`` set) say how
they add up (``multiprocess_mode``): ``livesum`` counts only processes still alive.
"""

from __future__ import annotations

from prometheus_client import Counter, Gauge, Histogram

# Builds take seconds to many minutes; matches milliseconds to many minutes; requests
# milliseconds to seconds.
_BUILD_BUCKETS = (1, 2.5, 5, 10, 20, 30, 60, 120, 300, 600, 1200, 1800, float("inf"))
_MATCH_BUCKETS = (0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 600, 1800, float("inf"))
_REQUEST_BUCKETS = (
    0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, float("inf")
)  # fmt: skip

BUILD_DURATION = Histogram(
    "botarena_build_duration_seconds",
    "Build attempts from claim to outcome, by outcome (success, user_error, platform_error, "
    "interrupted) and failure reason (none on success).",
    ["outcome", "reason"],
    buckets=_BUILD_BUCKETS,
)
MATCH_DURATION = Histogram(
    "botarena_match_duration_seconds",
    "Recorded matches' playing time on their executor, by game.",
    ["game"],
    buckets=_MATCH_BUCKETS,
)
MATCHES = Counter(
    "botarena_matches",
    "Matches that ended, by outcome: finished (recorded), error (the platform could not "
    "play it; counts for no one) or cancelled (by its creator, an admin or its tournament).",
    ["outcome"],
)
AGENT_OUTCOMES = Counter(
    "botarena_agent_outcomes",
    "Agents' outcomes in matches played by this process (validation matches included), by "
    "status: DONE, ERROR, TIMEOUT, INVALID.",
    ["status"],
)
SANDBOX_KILLS = Counter(
    "botarena_sandbox_kills",
    "Agents stopped for a limit, by cause: time (out of clock), memory (killed for its "
    "memory limit), processes (hit its process limit).",
    ["cause"],
)
EXECUTOR_SLOTS_FREE = Gauge(
    "botarena_executor_slots_free",
    "Matches an executor served by this process could start now.",
    multiprocess_mode="livesum",
)
LEASE_HANDBACKS = Counter(
    "botarena_lease_handbacks",
    "Jobs handed back after a failure of the platform's own (a worker or executor gone, a "
    "lease run out), by queue (builds, matches).",
    ["queue"],
)
RETRIES = Counter(
    "botarena_retries",
    "Jobs claimed again after an earlier attempt, by queue (builds, matches).",
    ["queue"],
)
HTTP_REQUESTS = Counter(
    "botarena_http_requests",
    "HTTP requests answered, by route template, method and status.",
    ["route", "method", "status"],
)
HTTP_DURATION = Histogram(
    "botarena_http_request_duration_seconds",
    "Time from a request's arrival to the start of its answer, by route template and method.",
    ["route", "method"],
    buckets=_REQUEST_BUCKETS,
)
EVENT_BUS_LISTENERS = Gauge(
    "botarena_event_bus_listeners",
    "Subscriptions to the event bus (live pages, streams, feeds) now.",
    multiprocess_mode="livesum",
)

# What the scrape-time collector adds (:mod:`botarena.metrics.queues`), named here too so
# that this module lists every name.
BUILD_QUEUE_DEPTH = "botarena_build_queue_depth"
BUILDS_IN_FLIGHT = "botarena_builds_in_flight"
MATCH_QUEUE_DEPTH = "botarena_match_queue_depth"
MATCHES_IN_FLIGHT = "botarena_matches_in_flight"


def build_finished(outcome: str, reason: str | None, seconds: float) -> None:
    BUILD_DURATION.labels(outcome, reason or "none").observe(max(seconds, 0.0))


def match_recorded(game: str, seconds: float) -> None:
    MATCHES.labels("finished").inc()
    MATCH_DURATION.labels(game).observe(max(seconds, 0.0))


def match_errored() -> None:
    MATCHES.labels("error").inc()


def match_cancelled() -> None:
    MATCHES.labels("cancelled").inc()


def agent_finished(status: str, killed_for: str | None) -> None:
    """One agent's end in a match; ``killed_for`` the limit that stopped it, if one did."""
    AGENT_OUTCOMES.labels(status).inc()
    if killed_for is not None:
        SANDBOX_KILLS.labels(killed_for).inc()


def executor_slots_changed(by: int) -> None:
    """Slots opened (an executor started, a match ended) or taken (the reverse)."""
    EXECUTOR_SLOTS_FREE.inc(by)


def handed_back(queue: str) -> None:
    LEASE_HANDBACKS.labels(queue).inc()


def retried(queue: str) -> None:
    RETRIES.labels(queue).inc()


def http_answered(route: str, method: str, status: int, seconds: float) -> None:
    HTTP_REQUESTS.labels(route, method, str(status)).inc()
    HTTP_DURATION.labels(route, method).observe(seconds)


def listeners_changed(by: int) -> None:
    EVENT_BUS_LISTENERS.inc(by)


def exposed_names() -> frozenset[str]:
    """Every metric name a scrape may show (counters with their ``_total``, histograms with
    their series), for checking what a dashboard asks for."""
    names = {BUILD_QUEUE_DEPTH, BUILDS_IN_FLIGHT, MATCH_QUEUE_DEPTH, MATCHES_IN_FLIGHT}
    for gauge in (EXECUTOR_SLOTS_FREE, EVENT_BUS_LISTENERS):
        names.add(gauge._name)
    counters = (MATCHES, AGENT_OUTCOMES, SANDBOX_KILLS, LEASE_HANDBACKS, RETRIES, HTTP_REQUESTS)
    for counter in counters:
        names.update({f"{counter._name}_total", f"{counter._name}_created"})
    for histogram in (BUILD_DURATION, MATCH_DURATION, HTTP_DURATION):
        name = histogram._name
        names.update({f"{name}_bucket", f"{name}_sum", f"{name}_count", f"{name}_created"})
    return frozenset(names)
