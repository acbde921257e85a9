"""``/metrics`` on the server: the metrics of :mod:`botarena.metrics`, every HTTP request
counted by its route, and the queues read from the database at each scrape."""

from __future__ import annotations

from fastapi import FastAPI
from fastapi.responses import Response
from sqlalchemy import func, select

from botarena.agents.models import Submission
from botarena.builds.queue import BuildQueue, build_jobs
from botarena.db.engine import SessionFactory
from botarena.matches.models import Match
from botarena.matches.queue import QUEUED, RUNNING
from botarena.metrics.exposition import CONTENT_TYPE, render
from botarena.metrics.http import MetricsMiddleware
from botarena.metrics.queues import QueueCollector, QueueSample


def install_metrics(app: FastAPI, factory: SessionFactory) -> None:
    """Count the app's requests and answer ``GET /metrics`` (left out of the API's docs)."""
    app.add_middleware(MetricsMiddleware)
    queues = QueueCollector(lambda: queue_sample(factory))

    @app.get("/metrics", include_in_schema=False)
    def metrics() -> Response:
        return Response(render(queues), media_type=CONTENT_TYPE)


def queue_sample(factory: SessionFactory) -> QueueSample:
    """What the build and match queues hold now: a few counting queries."""
    with factory() as session:
        builds_waiting, _ = BuildQueue(session).counts()
        by_backend = session.execute(
            select(Submission.build_backend, func.count())
            .where(build_jobs().holding)
            .group_by(Submission.build_backend)
        ).all()
        by_status = dict(
            session.execute(
                select(Match.status, func.count())
                .where(Match.status.in_((QUEUED, RUNNING)))
                .group_by(Match.status)
            ).all()
        )
    return QueueSample(
        builds_waiting=builds_waiting,
        match_waiting=int(by_status.get(QUEUED, 0)),
        matches_in_flight=int(by_status.get(RUNNING, 0)),
        builds_in_flight={str(backend or "unknown"): int(n) for backend, n in by_backend},
    )
