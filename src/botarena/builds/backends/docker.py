"""The ``docker`` backend: an image per submission, built through the Engine API, scanned,
pushed to ``BOTARENA_REGISTRY`` when one is set, and played by the docker runner.

An engine that cannot be reached keeps builds waiting (BackendUnavailable); one that fails
during a build is the platform's fault (retried); a Dockerfile or an install that fails is
the participant's (``dockerfile_failed``, ``dependencies_failed``). Each attempt tags an
image of its own; the submission's earlier tags are removed once no container uses them.

With ``BOTARENA_DOCKER_BUILD_PROXY_HOST`` set, each build gets an egress proxy of its own,
listening there, with the same allow-list as the ``local`` backend's builds; what else a
build can reach is the build network's business (see docs/architecture.md).
"""

from __future__ import annotations

import contextlib
import secrets
import threading
import time
from collections.abc import Iterator, Sequence
from pathlib import Path

import docker
import docker.errors
import requests
import structlog

from botarena.builds.backends.base import Artifact, BuildTarget
from botarena.builds.failures import BackendUnavailable, BuildFailure, FailureReason
from botarena.builds.images import (
    ImageBuilder,
    ImageBuildError,
    image_reference,
    image_repository,
    killed_by_signal,
)
from botarena.builds.leftovers import Leftovers
from botarena.builds.log import BuildLog
from botarena.builds.scan import Finding, ScanError, scan_image
from botarena.executor.installers.egress import start_egress_proxy
from botarena.executor.runners.base import Runner
from botarena.executor.runners.docker import (
    DockerRunner,
    DockerUnavailableError,
    connect,
    engine_problem,
)
from botarena.executor.sandbox import Limits
from botarena.settings import Settings

log = structlog.get_logger(__name__)

_MAX_WARNINGS = 50


# What a person can do when the engine cannot be reached or does not answer.
_ENGINE_REMEDY = (
    "start the Docker engine (sudo systemctl start docker) and let this user use it, point "
    "BOTARENA_DOCKER_HOST at a running engine, or build without one (BOTARENA_BUILD_BACKEND=local)"
)


class DockerBackend:
    """Images built and run by one container engine."""

    name = "docker"

    def __init__(self, settings: Settings, limits: Limits | None = None) -> None:
        self.settings = settings
        self.limits = limits or Limits()
        self._client: docker.DockerClient | None = None
        self._lock = threading.Lock()
        self._leftovers = Leftovers()

    def _engine(self) -> docker.DockerClient:
        with self._lock:
            if self._client is None:
                try:
                    self._client = connect(self.settings.docker_host)
                except DockerUnavailableError as exc:
                    raise BackendUnavailable(str(exc)) from exc
            return self._client

    def unavailable_reason(self) -> str | None:
        try:
            client = self._engine()
        except BackendUnavailable as exc:
            return f"{exc}; {_ENGINE_REMEDY}"
        problem = engine_problem(client)
        return None if problem is None else f"{problem}; {_ENGINE_REMEDY}"

    def build(self, target: BuildTarget, source: Path, log: BuildLog) -> Artifact:
        client = self._engine()
        self._leftovers.clean(client)  # of earlier builds the engine interrupted
        since = int(time.time())
        reference = image_reference(
            self.settings.registry,
            target.agent_id,
            target.submission_id,
            target.version,
            target.build_id,
        )
        with self._egress(log) as proxy:
            builder = ImageBuilder(
                client,
                self.settings.docker_base_image,
                network=self.settings.docker_build_network,
                proxy=proxy,
            )
            try:
                image = builder.build(source, reference, log.write)
            except ImageBuildError as exc:
                failure = self._failure(exc, client, since, builder.containers)
                self._leftovers.collect(builder)
                self._leftovers.clean(client)
                raise failure from exc
        log.write(f"built {reference} ({image.image_id[:19]})")
        # Asked again: a leftover the engine could not remove before the build (its
        # filesystem still busy just after a restart) usually can be by now.
        self._leftovers.clean(client)
        warnings = self._scan(reference, log)
        if self.settings.registry:
            try:
                image = builder.push(image, log.write)
            except ImageBuildError as exc:
                raise self._failure(exc, client) from exc
        return Artifact(
            backend=self.name,
            image=reference,
            digest=image.digest,
            warnings=warnings,
            build_id=target.build_id,
        )

    def retire(self, target: BuildTarget, current: Artifact | None) -> None:
        """Untag this submission's earlier images on the engine; one a container still uses
        is refused by the engine and left for the next build. The registry keeps its copies."""
        repository = image_repository(self.settings.registry, target.agent_id)
        prefix = f"{target.submission_id}-v{target.version}"
        mine = f"{prefix}-{target.build_id}"
        try:
            client = self._engine()
            images = client.images.list(name=repository)
        except (BackendUnavailable, docker.errors.DockerException, requests.RequestException):
            log.info("old images stay until the next build: the engine does not answer")
            return
        for image in images:
            for reference in image.tags:
                name, _, tag = reference.rpartition(":")
                made_earlier = tag == prefix or (tag.startswith(f"{prefix}-") and tag <= mine)
                if name != repository or not made_earlier:
                    continue
                if current is not None and reference == current.image:
                    continue
                try:
                    client.api.remove_image(reference)
                except docker.errors.APIError as exc:
                    log.info("an old image stays: in use", image=reference, reason=str(exc))

    def runner(self) -> Runner:
        return DockerRunner(self._engine(), self.limits, runtime=self.settings.docker_runtime)

    def close(self) -> None:
        with self._lock:
            if self._client is not None:
                self._client.close()
                self._client = None

    # -- steps ---------------------------------------------------------------------------
    @contextlib.contextmanager
    def _egress(self, log: BuildLog) -> Iterator[str | None]:
        """The URL of an egress proxy for one build, while it runs; None without one."""
        host = self.settings.docker_build_proxy_host
        if not host:
            yield None
            return
        try:
            proxy = start_egress_proxy(
                self.settings.build_egress_allow,
                log.write,
                name=f"image-build-{secrets.token_hex(6)}",
                listen=(host, 0),
            )
        except (OSError, ValueError) as exc:
            raise BuildFailure(
                FailureReason.INTERNAL,
                f"cannot start the egress proxy on {host}: {exc}",
                platform_fault=True,
            ) from exc
        with proxy:
            allowed = ", ".join(sorted(str(endpoint) for endpoint in proxy.policy.allowed))
            log.write(f"network: the egress proxy admits {allowed}")
            assert proxy.tcp_address is not None
            address, port = proxy.tcp_address
            shown = f"[{address}]" if ":" in address else address
            yield f"http://{shown}:{port}"

    def _scan(self, reference: str, log: BuildLog) -> tuple[str, ...]:
        command = self.settings.scan_command
        if not command:
            return ()
        log.step("scanning the image")
        try:
            findings = scan_image(command, reference, timeout=self.settings.scan_timeout)
        except ScanError as exc:
            if self.settings.scan_blocking:
                raise BuildFailure(
                    FailureReason.INTERNAL, f"the image scan failed: {exc}", platform_fault=True
                ) from exc
            log.write(f"the image scan failed: {exc}")
            return (f"the image was not scanned: {exc}",)
        log.write(f"the scan found {len(findings)} vulnerabilities")
        for finding in findings:
            log.write(f"warning: {finding.warning()}")
        blocking = [f for f in findings if f.blocking]
        if blocking and self.settings.scan_blocking:
            raise BuildFailure(
                FailureReason.VALIDATION_FAILED,
                f"the image scan found {_count(blocking)}; the first: {blocking[0].warning()}",
            )
        return _warnings(findings)

    def _failure(
        self,
        exc: ImageBuildError,
        client: docker.DockerClient,
        since: int = 0,
        containers: Sequence[str] = (),
    ) -> BuildFailure:
        if exc.user_fault:
            # Stopped rather than failed: the engine went away (a restart of its service kills
            # the step with 137, or fails its mounts) or killed the step: not the participant's.
            why = engine_problem(client)
            if why is None and killed_by_signal(str(exc)):
                why = _killed_by_engine(client, since, containers)
            if why:
                return BuildFailure(
                    FailureReason.INTERNAL,
                    f"the container engine stopped the build ({why}): {exc}",
                    platform_fault=True,
                )
        if exc.user_fault and exc.kind == "dependencies":
            return BuildFailure(
                FailureReason.DEPENDENCIES_FAILED,
                "installing requirements.txt failed; pip's output is in the log",
            )
        if exc.user_fault:
            return BuildFailure(
                FailureReason.DOCKERFILE_FAILED, f"the Dockerfile did not build: {exc}"
            )
        problem = engine_problem(client)
        sentence = f"the container engine stopped answering during the build: {problem}"
        return BuildFailure(
            FailureReason.INTERNAL, sentence if problem else str(exc), platform_fault=True
        )


def _killed_by_engine(
    client: docker.DockerClient, since: int, containers: Sequence[str]
) -> str | None:
    """Why a step container was killed by the engine (a ``kill`` event of it), or None."""
    if not containers:
        return None
    try:
        events = client.events(
            since=since,
            until=int(time.time()) + 1,
            filters={"type": "container", "event": "kill"},
            decode=True,
        )
        for event in events:
            ident = str(event.get("id") or event.get("Actor", {}).get("ID") or "")
            if any(ident.startswith(c) for c in containers):
                signal = event.get("Actor", {}).get("Attributes", {}).get("signal", "?")
                return f"it killed the step's container with signal {signal}"
    except (docker.errors.DockerException, requests.RequestException) as exc:
        return f"it stopped answering: {exc}"
    return None


def _count(findings: list[Finding]) -> str:
    severities = sorted({f.severity for f in findings})
    return f"{len(findings)} {'/'.join(severities)} vulnerabilities"


def _warnings(findings: list[Finding]) -> tuple[str, ...]:
    shown = [f.warning() for f in findings[:_MAX_WARNINGS]]
    if len(findings) > _MAX_WARNINGS:
        shown.append(f"… and {len(findings) - _MAX_WARNINGS} more (see the build log)")
    return tuple(shown)
