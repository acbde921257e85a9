"""The ``kubernetes`` match runner: each match is one Job in the matches namespace, its pod
holding the referee and the agents (see :mod:`botarena.executor.kubernetes.manifests`).

The executor still owns the match: it creates the Job, follows its pod while the gRPC call's
heartbeats keep the match's lease alive, reads the result the referee printed to its log, and
deletes the Job (always with ``propagationPolicy: Background``: a plain DELETE of a Job leaves
its pod running). What the cluster does to a match is never an agent's loss: a pod evicted or
lost with its node, a Job deleted by someone else, a referee that fails or whose image cannot
be pulled, an agent container that never started, a deadline passed: each is the platform's
error, and the match is handed back and played again. What an agent does (crash, time out,
answer nonsense) the referee judges exactly as in the executor's own process.
"""

from __future__ import annotations

import secrets
import time
from collections.abc import Sequence
from dataclasses import replace
from typing import Any

import structlog
import urllib3
from kubernetes import client, config
from kubernetes.client.rest import ApiException

from botarena.executor.kubernetes.manifests import (
    MATCH_LABEL,
    PIPES_CONTAINER,
    REFEREE_CONTAINER,
    MatchJobSettings,
    agent_container_name,
    deny_all_network_policy,
    match_job,
    match_job_name,
    match_labels,
)
from botarena.executor.match import platform_error
from botarena.executor.match_document import (
    MatchDocumentError,
    RefereeSpec,
    find_result,
    time_budget_seconds,
)
from botarena.executor.outcomes import AgentStatus, MatchResult
from botarena.executor.prepare import PreparedAgent
from botarena.executor.stop import StopSignal
from botarena.games.base import Game
from botarena.settings import Settings

log = structlog.get_logger(__name__)

JOB_NAME_LABEL = "batch.kubernetes.io/job-name"
BACKGROUND = "Background"
# Beyond the Job's own deadline: how long the executor waits before it gives the match up.
_DEADLINE_GRACE = 30.0
_POLL_SECONDS = 0.5
_MESSAGE_LIMIT = 500
# A match survives this many failed reads of its Job in a row (the API restarting, a network
# blip) before it is given up as the platform's error.
_READ_FAILURES = 10
# What a call to an API server that cannot be reached raises, besides its error answers.
_UNREACHABLE = (urllib3.exceptions.HTTPError, OSError)
_TRANSIENT = frozenset({429, 500, 502, 503, 504})


class _LostError(Exception):
    """The cluster lost the match: the platform's error, with why."""


def connect(settings: Settings) -> Any:
    """An API client from ``BOTARENA_K8S_KUBECONFIG``, or the pod's service account."""
    if settings.k8s_kubeconfig is not None:
        return config.new_client_from_config(str(settings.k8s_kubeconfig))
    configuration = client.Configuration()
    config.load_incluster_config(client_configuration=configuration)
    return client.ApiClient(configuration)


class KubernetesMatchRunner:
    """Plays each match as a Job of its own, from images only."""

    def __init__(
        self, api: Any, settings: MatchJobSettings, *, poll_seconds: float = _POLL_SECONDS
    ) -> None:
        self.api = api
        self.settings = settings
        self.poll_seconds = poll_seconds
        self.core = client.CoreV1Api(api)
        self.batch = client.BatchV1Api(api)
        self.networking = client.NetworkingV1Api(api)
        self._policy_checked = False

    @classmethod
    def from_settings(cls, settings: Settings) -> KubernetesMatchRunner:
        return cls(connect(settings), MatchJobSettings.from_settings(settings))

    @property
    def isolation(self) -> str:
        runtime = self.settings.runtime_class or "the cluster's default runtime"
        return (
            f"Kubernetes Jobs in {self.settings.namespace} with {runtime}: non-root, read-only "
            f"root, no capabilities, no network, each agent {self.settings.agent_cpu} CPU and "
            f"{self.settings.agent_memory} memory"
        )

    @property
    def sandboxed(self) -> bool:
        return True

    def close(self) -> None:
        self.api.close()

    @property
    def plays_images(self) -> bool:
        return True

    def engine_problem(self) -> str | None:
        """Why the cluster cannot take matches now (its API does not answer), or None."""
        try:
            client.VersionApi(self.api).get_code(_request_timeout=5)
        except Exception as exc:
            return f"the Kubernetes API does not answer: {exc}"
        return None

    # -- one match -----------------------------------------------------------------------
    def play_match(
        self,
        match_id: str,
        game: Game,
        configuration: dict[str, Any],
        agents: Sequence[PreparedAgent],
        *,
        seed: int,
        stop: StopSignal | None = None,
        startup_timeout: float | None = None,
    ) -> MatchResult:
        started = time.monotonic()
        images = [agent.image for agent in agents]
        if any(image is None for image in images):
            return platform_error(
                len(agents), "the kubernetes runner plays built images only", started
            )
        spec = RefereeSpec(
            game=game.id,
            configuration=configuration,
            seed=seed,
            agents=tuple(agent.name for agent in agents),
            time_budget_seconds=time_budget_seconds(configuration, len(agents)),
            startup_timeout=startup_timeout,
        )
        name = match_job_name(match_id, secrets.token_hex(3))
        manifest = match_job(
            self.settings,
            name=name,
            match_id=match_id,
            spec=spec,
            images=[image for image in images if image is not None],
        )
        try:
            self._ensure_network_policy()
            self._delete_leftovers(match_id)
            self.batch.create_namespaced_job(self.settings.namespace, manifest)
        except ApiException as exc:
            return platform_error(len(agents), f"the match Job was refused: {_said(exc)}", started)
        except _UNREACHABLE as exc:
            return platform_error(len(agents), f"the cluster cannot be reached: {exc}", started)
        log.info("match job created", job=name, namespace=self.settings.namespace)
        try:
            return self._follow(name, spec, started, stop)
        except _LostError as exc:
            log.warning("match lost by the cluster", job=name, why=str(exc))
            return platform_error(len(agents), str(exc), started)
        except ApiException as exc:
            return platform_error(len(agents), f"the cluster failed: {_said(exc)}", started)
        except _UNREACHABLE as exc:
            return platform_error(len(agents), f"the cluster cannot be reached: {exc}", started)
        finally:
            self.delete_job(name)

    def _follow(
        self, name: str, spec: RefereeSpec, started: float, stop: StopSignal | None
    ) -> MatchResult:
        """Wait for the referee to end, then read its result; raises _LostError for the
        cluster's failures."""
        deadline = started + spec.time_budget_seconds + _DEADLINE_GRACE
        failures = 0
        while True:
            if stop is not None and stop.is_set():
                raise _LostError("the match was stopped before its end")
            read = self._read(name)
            if read is None:  # the API did not answer: again at the next poll, a few times
                failures += 1
                if failures >= _READ_FAILURES:
                    raise _LostError(f"the cluster did not answer {failures} times in a row")
            else:
                failures = 0
                job, pod = read
                if pod is not None:
                    referee = _status_of(pod, REFEREE_CONTAINER)
                    if referee is not None and referee.state and referee.state.terminated:
                        return self._result(pod, referee.state.terminated, spec)
                    _check_pod(pod, referee)
                _check_job(job, pod)
            if time.monotonic() > deadline:
                raise _LostError(f"the match took longer than its {spec.time_budget_seconds} s")
            if stop is not None:
                stop.wait(self.poll_seconds)
            else:
                time.sleep(self.poll_seconds)

    def _read(self, name: str) -> tuple[Any, Any] | None:
        """The Job and its pod (None before it has one); None when the API could not answer
        now (unreachable, overloaded, failing); raises _LostError once the Job is gone."""
        try:
            return self.batch.read_namespaced_job(name, self.settings.namespace), self._pod_of(name)
        except ApiException as exc:
            if exc.status == 404:
                raise _LostError("its Job was deleted before the match ended") from exc
            if exc.status in _TRANSIENT:
                log.warning("reading a match job failed", job=name, error=_said(exc))
                return None
            raise
        except _UNREACHABLE as exc:
            log.warning("reading a match job failed", job=name, error=str(exc))
            return None

    def _result(self, pod: Any, ended: Any, spec: RefereeSpec) -> MatchResult:
        """The referee's result, with what the pod says of each agent that lost."""
        if ended.exit_code != 0:
            message = (ended.message or "")[-_MESSAGE_LIMIT:]
            raise _LostError(
                f"the referee failed ({ended.reason or 'Error'}, exit code {ended.exit_code})"
                + (f": {message}" if message else "")
            )
        text = self._referee_log(pod.metadata.name)
        try:
            result = find_result(text.splitlines())
        except MatchDocumentError as exc:
            raise _LostError(f"the referee's result cannot be read: {exc}") from exc
        if result is None:
            raise _LostError(f"the referee left no result (its summary: {ended.message or 'none'})")
        if all(agent.status is AgentStatus.DONE for agent in result.agents):
            return result
        # One lost: the pod tells whether it ever ran (its container ends right after the
        # referee saw its pipes close).
        return self._judge_agents(result, self._settled(pod))

    def _referee_log(self, pod_name: str) -> str:
        response = self.core.read_namespaced_pod_log(
            pod_name, self.settings.namespace, container=REFEREE_CONTAINER, _preload_content=False
        )
        try:
            data: bytes = response.data
        finally:
            response.release_conn()
        return data.decode("utf-8", errors="replace")

    def _settled(self, pod: Any, seconds: float = 2.0) -> Any:
        """The pod once no agent's container still runs (a crashed agent's exit reaches the
        pod's status a moment after the referee saw its pipes close), or as it is by then."""
        until = time.monotonic() + seconds
        while True:
            running = [
                status
                for status in pod.status.container_statuses or []
                if status.name != REFEREE_CONTAINER and status.state and status.state.running
            ]
            if not running or time.monotonic() >= until:
                return pod
            time.sleep(0.05)
            try:
                pod = self.core.read_namespaced_pod(pod.metadata.name, self.settings.namespace)
            except ApiException:
                return pod

    def _judge_agents(self, result: MatchResult, pod: Any) -> MatchResult:
        """An agent that lost without its container ever running lost to the cluster (its
        image could not be pulled, the node was too slow): the platform's error. One killed
        for its memory says so."""
        agents = list(result.agents)
        for player, outcome in enumerate(agents):
            if outcome.status is AgentStatus.DONE:
                continue
            status = _status_of(pod, agent_container_name(player))
            state = status.state if status is not None else None
            if state is None or (state.waiting and not status.started and not state.terminated):
                why = "it was never created"
                if state is not None and state.waiting:
                    why = f"{state.waiting.reason}: {state.waiting.message or ''}".strip(": ")
                said = f"agent {player}'s container never started ({why})"
                raise _LostError(said[:_MESSAGE_LIMIT])
            ended = state.terminated
            if ended is not None and ended.reason == "OOMKilled":
                reason = f"killed: out of memory (limit {self.settings.agent_memory})"
                agents[player] = replace(outcome, status=AgentStatus.ERROR, reason=reason)
                replayed = result.replay.get("agents")
                if isinstance(replayed, list) and player < len(replayed):
                    replayed[player] = agents[player].as_json()
        return replace(result, agents=agents)

    # -- the cluster's objects ------------------------------------------------------------
    def _pod_of(self, job_name: str) -> Any:
        pods = self.core.list_namespaced_pod(
            self.settings.namespace, label_selector=f"{JOB_NAME_LABEL}={job_name}"
        ).items
        if not pods:
            return None
        return max(pods, key=lambda pod: pod.metadata.creation_timestamp or 0)

    def _ensure_network_policy(self) -> None:
        """Create the deny-all NetworkPolicy of match pods once (the chart may own it)."""
        if self._policy_checked:
            return
        policy = deny_all_network_policy(self.settings.namespace)
        try:
            self.networking.create_namespaced_network_policy(self.settings.namespace, policy)
        except ApiException as exc:
            if exc.status not in (409, 403):
                raise
            if exc.status == 403:
                log.warning(
                    "the match NetworkPolicy cannot be created here; the deployment must make it",
                    policy=policy["metadata"]["name"],
                )
        self._policy_checked = True

    def _delete_leftovers(self, match_id: str) -> None:
        """Jobs an earlier play of this match left (its executor died): deleted first."""
        label = match_labels(match_id)[MATCH_LABEL]
        jobs = self.batch.list_namespaced_job(
            self.settings.namespace, label_selector=f"{MATCH_LABEL}={label}"
        ).items
        for job in jobs:
            log.info("deleting a match's leftover job", job=job.metadata.name)
            self.delete_job(job.metadata.name)

    def delete_job(self, name: str) -> None:
        """Delete a match Job and its pod (Background: a plain DELETE leaves the pod)."""
        try:
            self.batch.delete_namespaced_job(
                name, self.settings.namespace, propagation_policy=BACKGROUND
            )
        except ApiException as exc:
            if exc.status != 404:
                log.warning("deleting a match job failed", job=name, error=_said(exc))
        except _UNREACHABLE as exc:  # its deadline and TTL end it; the next play deletes it
            log.warning("deleting a match job failed", job=name, error=str(exc))


# Waiting reasons of a container that will not start by itself.
_STUCK = frozenset(
    {
        "ErrImagePull",
        "ImagePullBackOff",
        "InvalidImageName",
        "ErrImageNeverPull",
        "CreateContainerConfigError",
        "CreateContainerError",
        "RunContainerError",
    }
)


def _status_of(pod: Any, container: str) -> Any:
    status = pod.status
    for group in (status.init_container_statuses or [], status.container_statuses or []):
        for entry in group:
            if entry.name == container:
                return entry
    return None


def _check_pod(pod: Any, referee: Any) -> None:
    """Raise _LostError when the pod can no longer produce a result."""
    status = pod.status
    if status.reason == "Evicted" or status.phase == "Failed":
        raise _LostError(
            f"its pod failed before the match ended ({status.reason or 'Failed'}"
            + (f": {status.message}" if status.message else "")
            + ")"
        )
    if pod.metadata.deletion_timestamp is not None:
        raise _LostError("its pod was deleted before the match ended")
    for name in (REFEREE_CONTAINER, PIPES_CONTAINER):
        entry = referee if name == REFEREE_CONTAINER else _status_of(pod, name)
        waiting = entry.state.waiting if entry is not None and entry.state else None
        if waiting is not None and waiting.reason in _STUCK:
            why = f"{waiting.reason}: {waiting.message or ''}"
            raise _LostError(f"the referee cannot start ({why})")
        ended = entry.state.terminated if entry is not None and entry.state else None
        if name == PIPES_CONTAINER and ended is not None and ended.exit_code != 0:
            raise _LostError(f"the match's pipes could not be made (exit code {ended.exit_code})")


def _check_job(job: Any, pod: Any) -> None:
    """Raise _LostError when the Job failed or lost its pod before the referee ended."""
    for condition in job.status.conditions or []:
        if condition.type in ("Failed", "FailureTarget") and condition.status == "True":
            why = f"{condition.reason}: {condition.message or ''}"
            raise _LostError(f"its Job failed: {why}")
    if pod is None and (job.status.failed or 0) > 0:
        raise _LostError("its pod was lost before the match ended")


def _said(exc: ApiException) -> str:
    return f"{exc.status} {exc.reason}"
