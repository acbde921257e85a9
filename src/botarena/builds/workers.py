"""The build loops inside ``botarena serve``: workers that take builds from the queue, and a
monitor that reconciles every build left ``building``.

Workers renew their lease while they build. The monitor, every ``build_check_interval``
seconds, hands back to the queue each build whose lease ran out (its worker is gone), ends
as ``timeout`` each build whose log has not moved for ``build_timeout`` seconds, and lets a
backend with a ``sweep`` remove what it runs that no build waits for any more. At start-up,
builds that an earlier process on this machine left ``building`` are handed back at once.
"""

from __future__ import annotations

import functools
import os
import secrets
import socket
import threading
from datetime import timedelta

import structlog
from sqlalchemy.orm import Session

from botarena.agents.models import Submission
from botarena.agents.status import SubmissionStatus
from botarena.builds.backends.base import BuildBackend
from botarena.builds.pipeline import BuildPipeline
from botarena.builds.queue import BUILD_RETRY, BuildQueue
from botarena.clock import utcnow
from botarena.db.engine import SessionFactory
from botarena.jobs.backoff import Backoff
from botarena.settings import Settings
from botarena.storage import build_log_path, read_tail
from botarena.workers import Workers

log = structlog.get_logger(__name__)

_IDLE_POLL_SECONDS = 1.0


def process_prefix() -> str:
    """Workers of this machine are named ``host:pid:…``; an earlier pid is a dead process."""
    return f"{socket.gethostname()}:{os.getpid()}"


class BuildWorkers(Workers):
    """Runs ``build_concurrency`` workers and the monitor on threads until stopped."""

    def __init__(
        self,
        factory: SessionFactory,
        settings: Settings,
        backend: BuildBackend,
        *,
        retry: Backoff = BUILD_RETRY,
    ) -> None:
        self.factory = factory
        self.settings = settings
        self.backend = backend
        self.retry = retry
        super().__init__()
        self._unavailable: str | None = None
        self.prefix = f"{process_prefix()}:{secrets.token_hex(3)}"

    # -- life ----------------------------------------------------------------------------
    def start(self) -> None:
        self.recover()
        for index in range(self.settings.build_concurrency):
            self._spawn(
                f"build-worker-{index}", functools.partial(self._work, f"{self.prefix}:{index}")
            )
        self._spawn("build-monitor", self._monitor)

    def stop(self, timeout: float = 10.0) -> None:
        super().stop(timeout)
        close = getattr(self.backend, "close", None)
        if callable(close):
            close()

    # -- workers -------------------------------------------------------------------------
    def _work(self, worker: str) -> None:
        pipeline = BuildPipeline(
            self.factory, self.settings, self.backend, worker=worker, retry=self.retry
        )
        while not self._stop.is_set():
            if not self._backend_ready():
                self._stop.wait(self.settings.build_check_interval)
                continue
            try:
                submission_id = self._claim(worker)
            except Exception:
                log.exception("claiming a build failed", worker=worker)
                self._stop.wait(self.settings.build_check_interval)
                continue
            if submission_id is None:
                self._idle(_IDLE_POLL_SECONDS)
                continue
            heartbeat = _Heartbeat(self, submission_id, worker)
            heartbeat.start()
            try:
                pipeline.run(submission_id)
            finally:
                heartbeat.stop()

    def unavailable_reason(self) -> str | None:
        """Why builds cannot run right now (the backend's sentence), or None when they can."""
        return self.backend.unavailable_reason()

    @property
    def last_unavailable_reason(self) -> str | None:
        """What the workers found before their last claim (they ask before each): no call to
        the backend, so cheap enough for every page; None before their first look."""
        return self._unavailable

    def _backend_ready(self) -> bool:
        reason = self.unavailable_reason()
        if reason != self._unavailable:
            if reason:
                log.warning(
                    "build backend unavailable; builds wait until it is available",
                    backend=self.backend.name,
                    reason=reason,
                )
            else:
                log.info("build backend available", backend=self.backend.name)
            self._unavailable = reason
        return reason is None

    def _claim(self, worker: str) -> str | None:
        with self.factory() as session:
            claimed = BuildQueue(session).claim_next(
                worker, self.backend.name, self.settings.build_lease_seconds
            )
            session.commit()
            return claimed.id if claimed else None

    def renew(self, submission_id: str, worker: str) -> bool:
        with self.factory() as session:
            held = BuildQueue(session).renew(
                submission_id, worker, self.settings.build_lease_seconds
            )
            session.commit()
            return held

    # -- the monitor ---------------------------------------------------------------------
    def _monitor(self) -> None:
        while not self._stop.wait(self.settings.build_check_interval):
            try:
                self.reconcile()
            except Exception:
                log.exception("the build monitor pass failed")

    def recover(self) -> int:
        """Hand back builds that an earlier process on this machine left ``building``."""
        host = socket.gethostname() + ":"
        mine = process_prefix() + ":"
        with self.factory() as session:
            orphans = [
                s
                for s in BuildQueue(session).building()
                if (s.lease_owner or "").startswith(host)
                and not (s.lease_owner or "").startswith(mine)
            ]
            for submission in orphans:
                self._hand_back(session, submission, "the server restarted during the build")
            session.commit()
        return len(orphans)

    def reconcile(self) -> None:
        """One monitor pass over every ``building`` submission."""
        now = utcnow()
        stalled_before = now - timedelta(seconds=self.settings.build_timeout)
        with self.factory() as session:
            queue = BuildQueue(session)
            for submission in queue.expired(now):
                self._hand_back(session, submission, "its builder stopped answering")
            for submission in queue.building():
                if self._last_progress(submission) < stalled_before.timestamp():
                    self._time_out(queue, submission)
            session.commit()
            waiting = queue.waiting_attempts()
        sweep = getattr(self.backend, "sweep", None)
        if callable(sweep):
            # What the backend left running that nothing waits for (a Kubernetes Job whose
            # submission was deleted, rebuilt or ended) goes.
            sweep(waiting)

    def _last_progress(self, submission: Submission) -> float:
        path = build_log_path(self.settings, submission.id)
        try:
            return path.stat().st_mtime
        except FileNotFoundError:
            started = submission.heartbeat_at or submission.updated_at
            return started.timestamp()

    def _hand_back(self, session: Session, submission: Submission, why: str) -> None:
        """Back to the queue at once (the builder is gone, not the build at fault), or
        ``build_failed`` after the last attempt."""
        if not BuildQueue(session).jobs.hand_back(submission, why, self.retry, at_once=True):
            message = f"internal: the build was interrupted {submission.attempts} times; {why}"
            submission.move_to(SubmissionStatus.BUILD_FAILED, reason=message)
            submission.error_message = message
        submission.build_log = read_tail(build_log_path(self.settings, submission.id))
        log.warning("build handed back", submission_id=submission.id, why=why)
        self.wake()

    def _time_out(self, queue: BuildQueue, submission: Submission) -> None:
        limit = self.settings.build_timeout
        message = f"timeout: the build made no progress for {limit:g} s"
        queue.jobs.release(submission)
        submission.move_to(SubmissionStatus.BUILD_FAILED, reason=message)
        submission.error_message = message
        submission.build_log = read_tail(build_log_path(self.settings, submission.id))
        log.warning("build timed out", submission_id=submission.id)


class _Heartbeat:
    """Renews a worker's lease a few times per lease period while it builds."""

    def __init__(self, service: BuildWorkers, submission_id: str, worker: str) -> None:
        self.service = service
        self.submission_id = submission_id
        self.worker = worker
        self._done = threading.Event()
        self._thread = threading.Thread(
            target=self._beat, name=f"heartbeat-{submission_id}", daemon=True
        )

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._done.set()
        self._thread.join(5)

    def _beat(self) -> None:
        interval = self.service.settings.build_lease_seconds / 3
        while not self._done.wait(interval):
            try:
                if not self.service.renew(self.submission_id, self.worker):
                    return  # the lease is gone: the pipeline will find out and write nothing
            except Exception:
                log.exception("renewing a build lease failed", submission_id=self.submission_id)
