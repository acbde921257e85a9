"""The ``kubernetes`` backend: each build attempt is a Kaniko Job in the builds namespace,
pushing to ``BOTARENA_K8S_REGISTRY``.

A build makes the same context as the ``docker`` backend (the submission's Dockerfile or the
generated one, :func:`botarena.builds.images.build_context`), creates the attempt's Job
(``build-{submissionId}``, ``-{attempt}`` from the second), waits on the watch of Jobs and
pods (:mod:`botarena.builds.kubernetes.watch`) for its pod to run, streams the context through
``pods/attach`` to Kaniko's stdin (``tar://stdin``), follows the pod's log into the build log,
and takes the pushed digest from the container's termination message: the artifact's image is
``{reference}@{digest}``. How a Job ended maps to the build's reasons in
:mod:`botarena.builds.kubernetes.outcome`; the platform's own failures delete the Job
(``propagationPolicy: Background``) and are retried.

A Job of the submission still running when a build starts (the server restarted, or lost
the API, mid-build) is picked up where it is rather than built again: its log is followed from
the start and its result taken, provided it carries the mark a sent context leaves (see
``CONTEXT_SENT_ANNOTATION``); one without it may wait on stdin for a context its maker died
before sending, and is deleted and made again. The source is fetched again by the pipeline
before that but is not used, so a moved branch does not change what a picked-up Job builds.

The validation match plays the pushed image as every match does: with
``BOTARENA_MATCH_RUNNER=kubernetes``, a match Job on the same cluster; otherwise with the
``docker`` runner on ``BOTARENA_DOCKER_HOST``, pulling it by digest from the registry.
"""

from __future__ import annotations

import collections
import contextlib
import os
import re
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

import docker
import structlog
from kubernetes.client.rest import ApiException

from botarena.builds.backends.base import Artifact, BuildTarget
from botarena.builds.failures import BackendUnavailable, BuildFailure, FailureReason
from botarena.builds.images import ImageBuildError, build_context
from botarena.builds.kubernetes.cluster import CONFLICT, BuildCluster, connect, context_archive
from botarena.builds.kubernetes.manifests import (
    APP_LABELS,
    ATTEMPT_LABEL,
    CONTEXT_SENT_ANNOTATION,
    SUBMISSION_LABEL,
    BuildJobSettings,
    build_job,
)
from botarena.builds.kubernetes.names import image_reference
from botarena.builds.kubernetes.outcome import (
    Going,
    Pushed,
    builder_state,
    conditions,
    judge,
    newest,
)
from botarena.builds.kubernetes.watch import BuildWatch
from botarena.builds.log import BuildLog
from botarena.executor.runners.base import MatchRunner, Runner
from botarena.executor.runners.docker import DockerRunner, DockerUnavailableError, engine_problem
from botarena.executor.runners.docker import connect as connect_engine
from botarena.executor.runners.kubernetes import KubernetesMatchRunner
from botarena.executor.sandbox import Limits
from botarena.settings import Settings

log = structlog.get_logger(__name__)

BUILD_SELECTOR = ",".join(
    [f"{k}={v}" for k, v in APP_LABELS.items()] + ["app.kubernetes.io/component=build"]
)
# How long a Job may take to show up in the watch after its creation, and a pod to follow the
# end of its Job's deadline, before the build stops waiting.
_SEEN_SECONDS = 30.0
_DEADLINE_GRACE = 120.0
_LOG_TAIL = 40
_REMEDY = (
    "check BOTARENA_K8S_KUBECONFIG (empty: the pod's service account) and that the API server "
    "answers, or build with another backend (BOTARENA_BUILD_BACKEND=docker or local)"
)


class KubernetesBackend:
    """Kaniko Jobs on a cluster; the validation match on a Docker engine, for now."""

    name = "kubernetes"

    def __init__(self, settings: Settings, limits: Limits | None = None) -> None:
        self.settings = settings
        self.limits = limits or Limits()
        self._lock = threading.Lock()
        self._cluster: BuildCluster | None = None
        self._watch: BuildWatch | None = None
        self._engine: docker.DockerClient | None = None
        self._matches: KubernetesMatchRunner | None = None

    # -- connections ---------------------------------------------------------------------
    def cluster(self) -> BuildCluster:
        with self._lock:
            if self._cluster is None:
                try:
                    api = connect(self.settings.k8s_kubeconfig)
                except Exception as exc:  # a bad kubeconfig, or not in a cluster
                    raise BackendUnavailable(f"no Kubernetes client: {exc}") from exc
                self._cluster = BuildCluster(api, self.settings.k8s_build_namespace)
            return self._cluster

    def watch(self) -> BuildWatch:
        """The watch of build Jobs and pods, started on first use and kept."""
        cluster = self.cluster()
        with self._lock:
            if self._watch is None:
                self._watch = BuildWatch(cluster.api, cluster.namespace, BUILD_SELECTOR).start()
            watch = self._watch
        if not watch.synced(_SEEN_SECONDS):
            raise BackendUnavailable("the watch of build Jobs could not list them")
        return watch

    def _docker(self) -> docker.DockerClient:
        with self._lock:
            if self._engine is None:
                try:
                    self._engine = connect_engine(self.settings.docker_host)
                except DockerUnavailableError as exc:
                    raise BackendUnavailable(str(exc)) from exc
            return self._engine

    def unavailable_reason(self) -> str | None:
        if not self.settings.k8s_registry:
            return "BOTARENA_K8S_REGISTRY is not set: the kubernetes backend pushes images there"
        try:
            self.cluster().version()
        except BackendUnavailable as exc:
            return f"{exc}; {_REMEDY}"
        except Exception as exc:
            return f"the Kubernetes API cannot be reached: {_short(exc)}; {_REMEDY}"
        if self._plays_on_the_cluster:
            return None  # the validation match is a match Job on the same cluster
        try:
            problem = engine_problem(self._docker())
        except BackendUnavailable as exc:
            problem = str(exc)
        if problem is not None:
            return (
                f"the Docker engine that plays the validation match does not answer: {problem}; "
                "set BOTARENA_DOCKER_HOST to a running engine"
            )
        return None

    def close(self) -> None:
        with self._lock:
            watch, self._watch = self._watch, None
            cluster, self._cluster = self._cluster, None
            engine, self._engine = self._engine, None
        if watch is not None:
            watch.stop()
        if cluster is not None:
            cluster.api.close()
        if engine is not None:
            engine.close()

    # -- a build -------------------------------------------------------------------------
    def build(self, target: BuildTarget, source: Path, log: BuildLog) -> Artifact:
        try:
            config = BuildJobSettings.from_settings(self.settings)
        except ValueError as exc:
            raise BackendUnavailable(str(exc)) from exc
        cluster, watch = self.cluster(), self.watch()
        with tempfile.TemporaryDirectory(prefix="botarena-context-") as scratch:
            try:
                context, custom = build_context(
                    source,
                    Path(scratch),
                    self.settings.docker_base_image,
                    os.environ,
                    say=log.write,
                )
            except ImageBuildError as exc:
                raise BuildFailure(FailureReason.DOCKERFILE_FAILED, str(exc)) from exc
            archive = context_archive(context)
        reference = image_reference(
            config.registry, target.agent_id, target.submission_id, target.version
        )
        job_name, picked_up = self._job_for(cluster, config, target, log)
        run = _JobRun(cluster, watch, job_name, log, custom=custom, config=config)
        if picked_up:
            log.write(
                f"picked up the build Job {job_name} already under way: its log from the start"
            )
            run.context_sent = True
        else:
            run.archive = archive
        try:
            digest = run.wait()
        except BuildFailure as failure:
            if failure.platform_fault:
                _quietly(cluster.delete_job, job_name)
            raise
        image = f"{reference}@{digest}"
        log.write(f"pushed {image}")
        return Artifact(backend=self.name, image=image, digest=digest, build_id=target.build_id)

    def _job_for(
        self, cluster: BuildCluster, config: BuildJobSettings, target: BuildTarget, log: BuildLog
    ) -> tuple[str, bool]:
        """The Job this attempt waits on, and whether it was picked up rather than created:
        the newest Job of the submission still running from an earlier attempt (or from this
        one, handed back uncounted), else a new one for this attempt."""
        jobs = cluster.list_jobs(f"{SUBMISSION_LABEL}={target.submission_id}")
        for job in sorted(jobs, key=_attempt, reverse=True):
            attempt = _attempt(job)
            if attempt > target.attempt or job["metadata"].get("deletionTimestamp"):
                continue
            succeeded = {"Complete", "SuccessCriteriaMet"} & conditions(job).keys()
            if attempt < target.attempt and succeeded:
                return job["metadata"]["name"], True
            if _running(job):
                if _context_sent(job):
                    return job["metadata"]["name"], True
                # Its builder may wait on stdin for a context the process that made it died
                # before sending: it would end as a timeout. Made again instead.
                log.write(f"the build Job {job['metadata']['name']} never got its context")
                _quietly(cluster.delete_job, job["metadata"]["name"])
        manifest = build_job(
            config,
            submission_id=target.submission_id,
            agent_id=target.agent_id,
            version=target.version,
            attempt=target.attempt,
        )
        name: str = manifest["metadata"]["name"]
        try:
            cluster.create_job(manifest)
        except ApiException as exc:
            if exc.status != CONFLICT:
                raise
            # A Job of an earlier build of the same name (a rebuild starts counting again).
            cluster.delete_job(name)
            if not _gone(cluster, name):
                raise BuildFailure(
                    FailureReason.INTERNAL,
                    f"an earlier Job {name} is still being deleted",
                    platform_fault=True,
                ) from exc
            cluster.create_job(manifest)
        log.write(f"created the build Job {name} in namespace {cluster.namespace}")
        return name, False

    def retire(self, target: BuildTarget, current: Artifact | None) -> None:
        """Delete the finished Jobs of this submission's earlier attempts (a running one is
        left to the monitor's sweep). The images stay in the registry: its own garbage
        collection, or an operator, removes them."""
        try:
            cluster = self.cluster()
            jobs = cluster.list_jobs(f"{SUBMISSION_LABEL}={target.submission_id}")
        except Exception:
            log.info("earlier build Jobs stay until their TTL: the API does not answer")
            return
        for job in jobs:
            if _attempt(job) < target.attempt and not _running(job):
                _quietly(cluster.delete_job, job["metadata"]["name"])

    def sweep(self, waiting: dict[str, int]) -> int:
        """The monitor's safety net: delete every build Job whose submission no longer waits
        for it (``waiting``: the attempts of each pending or building submission); return
        how many."""
        try:
            cluster = self.cluster()
            jobs = cluster.list_jobs(BUILD_SELECTOR)
        except Exception:
            return 0
        deleted = 0
        for job in jobs:
            labels = job["metadata"].get("labels") or {}
            attempts = waiting.get(labels.get(SUBMISSION_LABEL, ""))
            if attempts is not None and _attempt(job) <= max(attempts, 1):
                continue
            if job["metadata"].get("deletionTimestamp"):
                continue
            log.info("deleting a build Job nothing waits for", job=job["metadata"]["name"])
            if _quietly(cluster.delete_job, job["metadata"]["name"]):
                deleted += 1
        return deleted

    def runner(self) -> Runner | MatchRunner:
        """What plays the validation match: with ``BOTARENA_MATCH_RUNNER=kubernetes`` a match
        Job on the cluster, as every match then; otherwise the docker runner on
        ``BOTARENA_DOCKER_HOST``, which pulls the image by digest."""
        if self._plays_on_the_cluster:
            return self._match_runner()
        return DockerRunner(self._docker(), self.limits, runtime=self.settings.docker_runtime)

    @property
    def _plays_on_the_cluster(self) -> bool:
        return self.settings.match_runner == "kubernetes"

    def _match_runner(self) -> KubernetesMatchRunner:
        with self._lock:
            if self._matches is None:
                try:
                    self._matches = KubernetesMatchRunner.from_settings(self.settings)
                except Exception as exc:  # the kubeconfig or the service account
                    raise BackendUnavailable(f"no Kubernetes match runner: {exc}") from exc
            return self._matches


class _JobRun:
    """Waiting on one build Job through the watch: the context sent once its pod runs, its
    log followed, its end judged."""

    def __init__(
        self,
        cluster: BuildCluster,
        watch: BuildWatch,
        job_name: str,
        log: BuildLog,
        *,
        custom: bool,
        config: BuildJobSettings,
    ) -> None:
        self.cluster = cluster
        self.watch = watch
        self.job_name = job_name
        self.log = log
        self.custom = custom
        self.config = config
        self.archive: bytes | None = None
        self.context_sent = False
        self.tail: collections.deque[str] = collections.deque(maxlen=_LOG_TAIL)
        self._follower: threading.Thread | None = None
        # The pod last reported to ``log.placed`` ("" before the first report).
        self._placed: str | None = ""

    def wait(self) -> str:
        """The pushed digest; BuildFailure with the reason otherwise."""
        started = time.monotonic()
        ends = started + self.config.deadline_seconds + _DEADLINE_GRACE
        seen = False
        while True:
            if self.watch.stopping.is_set():
                raise BackendUnavailable("the backend was closed during the build")
            job = self.watch.job(self.job_name)
            if job is None and not seen:
                if time.monotonic() - started > _SEEN_SECONDS:
                    job = self.cluster.read_job(self.job_name)
                    seen = True
                else:
                    self._next_change(1.0)
                    continue
            seen = True
            pod = newest(self.watch.pods_of(self.job_name))
            if job is not None and _ended(job) and "terminated" not in builder_state(pod):
                # The two streams are not in step: the Job's end may come before its pod's.
                pod = newest(self.cluster.list_pods(self.job_name)) or pod
            self._place(pod)
            progress = judge(
                job,
                pod,
                custom=self.custom,
                context_sent=self.context_sent,
                deadline_seconds=self.config.deadline_seconds,
            )
            if isinstance(progress, Going):
                if progress.running and pod is not None:
                    self._send(pod["metadata"]["name"])
                    self._follow(pod["metadata"]["name"])
                if time.monotonic() > ends:
                    raise BuildFailure(
                        FailureReason.INTERNAL,
                        f"the build Job {self.job_name} did not end within its deadline",
                        platform_fault=True,
                    )
                self._next_change(5.0)
                continue
            if pod is not None:
                self._follow(pod["metadata"]["name"])
            # A builder that ended has its whole log soon; one the cluster stopped may not.
            self._finish_log(15.0 if "terminated" in builder_state(pod) else 1.0)
            if isinstance(progress, Pushed):
                return progress.digest
            # Judged again with the log's end: the failing step is there.
            final = judge(
                job,
                pod,
                custom=self.custom,
                log_tail=list(self.tail),
                context_sent=self.context_sent,
                deadline_seconds=self.config.deadline_seconds,
            )
            raise final if isinstance(final, BuildFailure) else progress

    def _next_change(self, timeout: float) -> None:
        generation = self.watch.generation
        self.watch.wait(lambda: True if self.watch.generation != generation else None, timeout)

    def _place(self, pod: dict[str, Any] | None) -> None:
        name = pod["metadata"]["name"] if pod is not None else None
        if name != self._placed:
            self._placed = name
            self.log.placed(self.job_name, name)

    def _send(self, pod: str) -> None:
        if self.archive is None or self.context_sent:
            return
        archive, self.archive = self.archive, None
        size = len(archive)
        try:
            self.cluster.send_context(pod, archive)
        except Exception as exc:
            # Kaniko reads a cut context as its end and fails; the judge then blames us.
            self.log.write(f"sending the build context failed: {_short(exc)}")
            return
        self.context_sent = True
        self.log.write(f"sent the build context ({size} bytes) to {pod}")
        try:
            self.cluster.mark_context_sent(self.job_name)
        except Exception as exc:  # picked up later without the mark, it is made again
            self.log.write(f"marking the Job as having its context failed: {_short(exc)}")

    def _follow(self, pod: str) -> None:
        if self._follower is not None:
            return

        def line(text: str) -> None:
            self.tail.append(text)
            self.log.write(text)

        def follow() -> None:
            try:
                self.cluster.follow_log(pod, line, self.config.deadline_seconds + _DEADLINE_GRACE)
            except Exception as exc:
                with contextlib.suppress(ValueError):  # the build's log was closed meanwhile
                    self.log.write(f"following the build log stopped: {_short(exc)}")

        self._follower = threading.Thread(target=follow, name=f"log-{pod}", daemon=True)
        self._follower.start()

    def _finish_log(self, timeout: float) -> None:
        if self._follower is not None:
            self._follower.join(timeout)


def _context_sent(job: dict[str, Any]) -> bool:
    annotations = job["metadata"].get("annotations") or {}
    return annotations.get(CONTEXT_SENT_ANNOTATION) == "true"


def _attempt(job: dict[str, Any]) -> int:
    value = (job["metadata"].get("labels") or {}).get(ATTEMPT_LABEL, "0")
    return int(value) if value.isdigit() else 0


def _ended(job: dict[str, Any]) -> bool:
    return bool(
        {"Complete", "Failed", "FailureTarget", "SuccessCriteriaMet"} & conditions(job).keys()
    )


def _running(job: dict[str, Any]) -> bool:
    """Not ended, and not yet judged to end (a Job gets FailureTarget or SuccessCriteriaMet
    before its pods are gone)."""
    return not _ended(job)


def _gone(cluster: BuildCluster, name: str, seconds: float = 30.0) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if cluster.read_job(name) is None:
            return True
        time.sleep(0.1)
    return False


def _quietly(delete: Any, name: str) -> bool:
    try:
        return bool(delete(name))
    except Exception as exc:
        log.info("deleting a build Job failed; the sweep will", job=name, error=_short(exc))
        return False


def _short(exc: BaseException) -> str:
    text = re.sub(r"\s+", " ", str(exc)).strip()
    return text[:300]
