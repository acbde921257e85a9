"""One build from claim to outcome: fetch → build with the backend → validate → record.

Every outcome is written under the worker's lease: a worker that lost its lease (the monitor
handed the build back meanwhile) writes nothing. Failures of the platform's own go back to
the queue with exponential backoff and jitter, up to ``max_attempts``; a participant's own
errors end the build at once. A backend that cannot be reached hands the build back without
using up an attempt.
"""

from __future__ import annotations

import functools
import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path

import structlog
from sqlalchemy import select
from sqlalchemy.orm import Session
from sqlalchemy.orm.exc import StaleDataError

from botarena.agents.models import Submission
from botarena.agents.status import SubmissionStatus
from botarena.builds.backends.base import Artifact, BuildBackend, BuildTarget
from botarena.builds.failures import BackendUnavailable, BuildFailure, FailureReason
from botarena.builds.feed import log_notifier
from botarena.builds.log import BuildLog
from botarena.builds.models import AttemptOutcome, BuildAttempt
from botarena.builds.queue import BUILD_RETRY, BuildQueue
from botarena.builds.validation import keep_validation, validation_summary
from botarena.clock import utcnow
from botarena.db.engine import SessionFactory
from botarena.executor.artifact_folders import Hold
from botarena.executor.match import run_match
from botarena.executor.outcomes import AgentStatus, MatchStatus
from botarena.executor.referee import RefereeOptions
from botarena.games.registry import get_game
from botarena.jobs.backoff import Backoff
from botarena.metrics import definitions as metrics
from botarena.settings import Settings
from botarena.sources.archives import ArchiveError, ArchiveLimits, extract_archive
from botarena.sources.git import FetchError, FetchLimits, fetch_git
from botarena.storage import archive_path, build_log_path, read_tail, validation_match_path

log = structlog.get_logger(__name__)

# The validation match: short, against itself, generous start-up for heavy imports.
VALIDATION_STEPS = 12
VALIDATION_STARTUP_SECONDS = 60.0


@dataclass(frozen=True)
class _Job:
    submission_id: str
    agent_id: str
    version: int
    attempt: int
    game: str
    code_url: str | None
    ref: str | None
    archive_sha256: str | None
    archive_format: str | None


class BuildPipeline:
    """Runs claimed builds for one worker."""

    def __init__(
        self,
        factory: SessionFactory,
        settings: Settings,
        backend: BuildBackend,
        *,
        worker: str,
        retry: Backoff = BUILD_RETRY,
    ) -> None:
        self.factory = factory
        self.settings = settings
        self.backend = backend
        self.worker = worker
        self.retry = retry

    def log_path(self, submission_id: str) -> Path:
        return build_log_path(self.settings, submission_id)

    def run(self, submission_id: str) -> None:
        """Build a submission this worker has claimed, and record how it ended."""
        job = self._load(submission_id)
        if job is None:
            return
        # Every attempt of a build appends to its log; a rebuild began a fresh one (see
        # botarena.builds.generations).
        build_log = BuildLog(
            self.log_path(submission_id),
            log_notifier(self.factory, submission_id),
            placed=functools.partial(self._placed, job),
        )
        build_log.step(f"attempt {job.attempt} with the {self.backend.name} backend")
        # What an earlier build's validation match left is not this build's.
        validation_match_path(self.settings, submission_id).unlink(missing_ok=True)
        workdir = Path(tempfile.mkdtemp(prefix=f"{submission_id}-", dir=self._work_root()))
        commit_sha: str | None = None
        # This attempt's own artifact: a new folder or image tag, whatever came before.
        target = BuildTarget(submission_id, job.agent_id, job.version, job.attempt)
        try:
            source, commit_sha = self._source(job, workdir, build_log)
            build_log.step("building")
            artifact = self.backend.build(target, source, build_log)
            build_log.step("validating: a short match against itself")
            self._validate(job, artifact, build_log)
            build_log.step("build succeeded")
            self._succeed(job, artifact, commit_sha)
        except BackendUnavailable as exc:
            build_log.step(
                f"the {self.backend.name} backend is unavailable: {exc}; back to the queue"
            )
            self._requeue(job, str(exc))
        except BuildFailure as failure:
            if not self._backend_went_away(job, failure, build_log):
                build_log.step(f"build failed: {failure.error_message}")
                self._fail(job, failure, commit_sha)
        except Exception as exc:  # a bug or an environment fault: ours, so retried
            log.exception("build crashed", submission_id=submission_id)
            crash = BuildFailure(
                FailureReason.INTERNAL, f"the builder failed: {exc}", platform_fault=True
            )
            if not self._backend_went_away(job, crash, build_log):
                build_log.step(f"build failed: {crash.error_message}")
                self._fail(job, crash, commit_sha)
        finally:
            build_log.close()
            shutil.rmtree(workdir, ignore_errors=True)
            self._retire(target)

    # -- steps ---------------------------------------------------------------------------
    def _source(self, job: _Job, workdir: Path, build_log: BuildLog) -> tuple[Path, str | None]:
        dest = workdir / "src"
        if job.code_url:
            build_log.step(f"fetching {job.code_url}" + (f" at {job.ref}" if job.ref else ""))
            try:
                fetched = fetch_git(
                    job.code_url,
                    job.ref,
                    dest,
                    allow_http=self.settings.git_allow_http,
                    allow_hosts=self.settings.git_allow_hosts,
                    limits=FetchLimits(),
                    # The participant reads this log: no paths of the server in it.
                    on_output=lambda line: build_log.write(line.replace(str(workdir), ".")),
                )
            except FetchError as exc:
                reason = (
                    FailureReason.TIMEOUT if exc.reason == "timeout" else FailureReason.FETCH_FAILED
                )
                raise BuildFailure(reason, str(exc)) from exc
            build_log.write(f"commit {fetched.commit_sha}")
            return fetched.path, fetched.commit_sha
        if job.archive_sha256 and job.archive_format:
            build_log.step("unpacking the uploaded archive")
            archive = archive_path(self.settings, job.archive_sha256, job.archive_format)
            limits = ArchiveLimits(
                max_bytes=self.settings.archive_max_bytes,
                max_files=self.settings.archive_max_files,
                max_unpacked_bytes=self.settings.archive_max_unpacked_bytes,
            )
            try:
                extract_archive(archive, job.archive_format, dest, limits)  # type: ignore[arg-type]
            except ArchiveError as exc:
                raise BuildFailure(FailureReason.FETCH_FAILED, str(exc)) from exc
            except FileNotFoundError as exc:
                raise BuildFailure(
                    FailureReason.INTERNAL, "the stored archive is missing", platform_fault=True
                ) from exc
            return dest, None
        raise BuildFailure(
            FailureReason.INTERNAL, "the submission has no source", platform_fault=True
        )

    def _validate(self, job: _Job, artifact: Artifact, build_log: BuildLog) -> None:
        game = get_game(job.game)
        defaults = game.default_configuration()
        configuration = game.configure(
            {"episodeSteps": min(int(defaults["episodeSteps"]), VALIDATION_STEPS)}
        )
        agent = artifact.prepared(job.submission_id)
        # Held while it plays, as a match on an executor holds it.
        with Hold(agent.code_dir):
            result = run_match(
                game,
                configuration,
                [agent, agent],
                self.backend.runner(),
                seed=0,
                options=RefereeOptions(startup_timeout=VALIDATION_STARTUP_SECONDS),
            )
        if result.status is MatchStatus.ERROR:
            raise BuildFailure(
                FailureReason.INTERNAL,
                f"the validation match could not run: {result.error}",
                platform_fault=True,
            )
        keep_validation(validation_match_path(self.settings, job.submission_id), result)
        build_log.write(validation_summary(result))
        lost = any(outcome.status is not AgentStatus.DONE for outcome in result.agents)
        if lost and self.backend.unavailable_reason() is not None:
            # The engine went away under the match (its containers died with it): not the
            # agent's failure.
            raise BuildFailure(
                FailureReason.INTERNAL, "the validation match was cut short", platform_fault=True
            )
        for player, outcome in enumerate(result.agents):
            if outcome.status is not AgentStatus.DONE:
                build_log.write(f"--- the agent's log (player {player}) ---")
                for line in outcome.log.splitlines():
                    build_log.write(line)
                raise BuildFailure(
                    FailureReason.VALIDATION_FAILED,
                    "the agent failed its validation match: "
                    f"{outcome.status.value}, {outcome.reason}",
                )

    def _retire(self, target: BuildTarget) -> None:
        """Whatever the outcome, retire what this attempt and earlier ones made, except the
        submission's current artifact; each goes once nothing plays it."""
        try:
            with self.factory() as session:
                stored = session.scalar(
                    select(Submission.artifact).where(Submission.id == target.submission_id)
                )
            current = Artifact.from_json(stored) if stored else None
            self.backend.retire(target, current)
        except Exception:  # never a build's failure: what is left is removed by a later one
            log.exception("retiring old artifacts failed", submission_id=target.submission_id)

    # -- recording -----------------------------------------------------------------------
    def _load(self, submission_id: str) -> _Job | None:
        with self.factory() as session:
            submission = self._held(session, submission_id)
            if submission is None:
                return None
            session.add(
                BuildAttempt(
                    submission_id=submission_id,
                    number=submission.attempts,
                    worker=self.worker,
                    backend=self.backend.name,
                    started_at=utcnow(),
                )
            )
            job = _Job(
                submission_id,
                submission.agent_id,
                submission.version,
                submission.attempts,
                submission.agent.game,
                submission.code_url,
                submission.ref,
                submission.archive_sha256,
                submission.archive_format,
            )
            session.commit()
            return job

    def _held(self, session: Session, submission_id: str) -> Submission | None:
        """The submission, locked, when this worker still holds its lease; else None."""
        return BuildQueue(session).held(submission_id, self.worker)

    def _commit(self, session: Session, job: _Job) -> None:
        """Commit an outcome; a concurrent change of the row means the lease was lost."""
        try:
            session.commit()
        except StaleDataError:
            session.rollback()
            log.warning("lost the lease while recording", submission_id=job.submission_id)

    def _succeed(self, job: _Job, artifact: Artifact, commit_sha: str | None) -> None:
        with self.factory() as session:
            submission = self._held(session, job.submission_id)
            if submission is None:
                return
            submission.move_to(SubmissionStatus.SUCCESS, reason="built and validated")
            submission.artifact = artifact.to_json()
            submission.docker_image_url = artifact.image
            submission.commit_sha = commit_sha or submission.commit_sha
            submission.error_message = None
            self._release(session, submission)
            self._close_attempt(session, job, AttemptOutcome.SUCCESS, None, None)
            self._commit(session, job)

    def _placed(self, job: _Job, job_name: str, pod_name: str | None) -> None:
        """Where the backend runs the build (a Kubernetes Job and its pod), for build-status."""
        with self.factory() as session:
            submission = self._held(session, job.submission_id)
            if submission is None:
                return
            submission.build_job_name = job_name
            submission.build_pod_name = pod_name
            self._commit(session, job)

    def _backend_went_away(self, job: _Job, failure: BuildFailure, build_log: BuildLog) -> bool:
        """A platform fault while the backend itself is gone (its engine stopped mid-build)
        is the backend's outage, not an attempt: the build goes back to the queue uncounted and
        waits for the backend, as one claimed while it was down does. True when so."""
        if not failure.platform_fault:
            return False
        reason = self.backend.unavailable_reason()
        if reason is None:
            return False
        build_log.step(
            f"{failure.sentence}: the {self.backend.name} backend went away during the build "
            f"({reason}); back to the queue"
        )
        self._requeue(job, f"{failure.sentence} ({reason})")
        return True

    def _requeue(self, job: _Job, why: str) -> None:
        """Back to the queue as if never claimed: the attempt is not counted."""
        with self.factory() as session:
            submission = self._held(session, job.submission_id)
            if submission is None:
                return
            BuildQueue(session).jobs.requeue(
                submission,
                f"backend unavailable: {why}",
                delay=self.retry.base_seconds,
                counted=False,
            )
            self._release(session, submission)
            self._close_attempt(session, job, AttemptOutcome.INTERRUPTED, None, why)
            self._commit(session, job)

    def _fail(self, job: _Job, failure: BuildFailure, commit_sha: str | None) -> None:
        with self.factory() as session:
            submission = self._held(session, job.submission_id)
            if submission is None:
                return
            submission.commit_sha = commit_sha or submission.commit_sha
            if failure.platform_fault and not self.retry.exhausted(submission.attempts):
                delay = self.retry.delay(submission.attempts)
                BuildQueue(session).jobs.requeue(
                    submission, f"retrying in {delay:.0f} s: {failure.error_message}", delay=delay
                )
                outcome = AttemptOutcome.PLATFORM_ERROR
            else:
                if failure.platform_fault:
                    failure = BuildFailure(
                        FailureReason.INTERNAL,
                        f"the build failed {submission.attempts} times through the platform's "
                        f"fault; last: {failure.sentence}",
                        platform_fault=True,
                    )
                submission.move_to(SubmissionStatus.BUILD_FAILED, reason=failure.error_message)
                submission.error_message = failure.error_message
                outcome = (
                    AttemptOutcome.PLATFORM_ERROR
                    if failure.platform_fault
                    else AttemptOutcome.USER_ERROR
                )
            self._release(session, submission)
            self._close_attempt(session, job, outcome, failure.reason.value, failure.sentence)
            self._commit(session, job)

    def _release(self, session: Session, submission: Submission) -> None:
        BuildQueue(session).jobs.release(submission)
        submission.build_log = read_tail(self.log_path(submission.id))

    def _close_attempt(
        self,
        session: Session,
        job: _Job,
        outcome: AttemptOutcome,
        reason: str | None,
        message: str | None,
    ) -> None:
        attempt = session.scalar(
            select(BuildAttempt)
            .where(
                BuildAttempt.submission_id == job.submission_id,
                BuildAttempt.number == job.attempt,
            )
            .order_by(BuildAttempt.id.desc())
            .limit(1)
        )
        if attempt is not None:
            attempt.outcome = outcome.value
            attempt.reason = reason
            attempt.message = message
            attempt.finished_at = utcnow()
            metrics.build_finished(outcome, reason, _seconds(attempt))

    def _work_root(self) -> Path:
        root = self.settings.data_dir / "work"
        root.mkdir(parents=True, exist_ok=True)
        return root


def _seconds(attempt: BuildAttempt) -> float:
    finished = attempt.finished_at or utcnow()
    return (finished - attempt.started_at).total_seconds()
