"""What a build Job's state means for the build: still going, pushed (with its digest), or
failed for one of the build's reasons. Pure functions over the Job and its pod as the API
returns them (JSON dicts), so every case is tested without a cluster.

Whose fault: a failing step of the build (Kaniko's ``exit status N``) or a pod out of memory is
the participant's (``dockerfile_failed`` for their own Dockerfile, ``dependencies_failed`` for
the generated one, whose only RUN step installs ``requirements.txt``); the Job's deadline is
``timeout``; everything the platform or the cluster did (the builder image not pulled, an
evicted pod, a lost node, a push refused, a Job deleted by someone else, a context that did
not arrive whole) is ``internal``, retried as a platform fault.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from botarena.builds.failures import BuildFailure, FailureReason
from botarena.builds.images import build_error
from botarena.builds.kubernetes.manifests import BUILDER_CONTAINER

Obj = dict[str, Any]

DIGEST = re.compile(r"sha256:[0-9a-f]{64}")
# Waiting reasons that will not pass by themselves: the builder image cannot be had, or the
# pod cannot be configured (a Secret missing, say).
_STUCK = {
    "ImagePullBackOff",
    "InvalidImageName",
    "ErrImageNeverPull",
    "CreateContainerConfigError",
    "CreateContainerError",
}
# Pods ended by the cluster rather than by the build.
_DISRUPTED = {"Evicted", "NodeLost", "Shutdown", "Terminated", "UnexpectedAdmissionError"}
_PLATFORM_ERRORS = ("error pushing image", "error checking push permissions", "error uploading")


@dataclass(frozen=True)
class Pushed:
    digest: str


@dataclass(frozen=True)
class Going:
    """Not ended: ``running`` once the builder container runs (time to attach)."""

    running: bool = False


Progress = Pushed | Going | BuildFailure


def conditions(job: Obj) -> dict[str, Obj]:
    found = (job.get("status") or {}).get("conditions") or []
    return {c["type"]: c for c in found if c.get("status") == "True"}


def builder_state(pod: Obj | None) -> Obj:
    """The builder container's state (``waiting``, ``running`` or ``terminated``), or {}."""
    for entry in ((pod or {}).get("status") or {}).get("containerStatuses") or []:
        if entry.get("name") == BUILDER_CONTAINER:
            return entry.get("state") or {}
    return {}


def newest(pods: Sequence[Obj]) -> Obj | None:
    if not pods:
        return None
    return max(pods, key=lambda p: p["metadata"].get("creationTimestamp") or "")


def judge(
    job: Obj | None,
    pod: Obj | None,
    *,
    custom: bool,
    log_tail: Sequence[str] = (),
    context_sent: bool = True,
    deadline_seconds: int = 0,
) -> Progress:
    """Where the build stands. ``custom``: the submission brought its own Dockerfile;
    ``log_tail``: the builder's last log lines; ``context_sent``: the context was streamed
    whole (if not, the builder's failure is the platform's)."""
    if job is None:
        return BuildFailure(
            FailureReason.INTERNAL,
            "the build Job was deleted before it ended (by someone else, or its TTL)",
            platform_fault=True,
        )
    ended = conditions(job)
    deadline = any(
        ended.get(kind, {}).get("reason") == "DeadlineExceeded"
        for kind in ("Failed", "FailureTarget")
    )
    if deadline:
        if not context_sent:
            # The deadline counts from the Job's start: a build whose context never went
            # out (its pod not scheduled, or its builder never started) spent it waiting
            # for the cluster, not building.
            return BuildFailure(
                FailureReason.INTERNAL,
                f"the build pod never ran within the Job's {deadline_seconds} s "
                "(not scheduled, or its builder never started)",
                platform_fault=True,
            )
        return BuildFailure(
            FailureReason.TIMEOUT, f"the build took longer than its {deadline_seconds} s"
        )
    state = builder_state(pod)
    disrupted = _disruption(pod)
    if disrupted:
        return BuildFailure(FailureReason.INTERNAL, disrupted, platform_fault=True)
    waiting = state.get("waiting") or {}
    if waiting.get("reason") in _STUCK:
        why = waiting.get("message") or waiting["reason"]
        return BuildFailure(
            FailureReason.INTERNAL,
            f"the build pod cannot start: {waiting['reason']} ({why})",
            platform_fault=True,
        )
    if "terminated" in state:
        return _ended(state["terminated"], custom, log_tail, context_sent)
    if "Complete" in ended or "Failed" in ended:
        # Ended without a pod that says how (it was deleted with it): the cluster's doing.
        return BuildFailure(
            FailureReason.INTERNAL,
            f"the build Job ended without its pod ({_job_reason(ended)})",
            platform_fault=True,
        )
    return Going(running="running" in state)


def _ended(ended: Obj, custom: bool, log_tail: Sequence[str], context_sent: bool) -> Progress:
    code = ended.get("exitCode")
    if code == 0:
        message = (ended.get("message") or "").strip()
        if DIGEST.fullmatch(message):
            return Pushed(message)
        return BuildFailure(
            FailureReason.INTERNAL,
            f"the builder ended without reporting a digest ({message[:80]!r})",
            platform_fault=True,
        )
    if not context_sent:
        return BuildFailure(
            FailureReason.INTERNAL,
            "the build context did not reach the builder whole",
            platform_fault=True,
        )
    user_reason = FailureReason.DOCKERFILE_FAILED if custom else FailureReason.DEPENDENCIES_FAILED
    if ended.get("reason") == "OOMKilled":
        return BuildFailure(user_reason, "the build ran out of memory (the build pod's limit)")
    last = _last_error(log_tail) or f"the builder exited with code {code}"
    if last.startswith(_PLATFORM_ERRORS):
        return BuildFailure(FailureReason.INTERNAL, last, platform_fault=True)
    error = build_error(last, custom=custom)
    if not error.user_fault:
        return BuildFailure(FailureReason.INTERNAL, last, platform_fault=True)
    if error.kind == "dependencies":
        return BuildFailure(
            FailureReason.DEPENDENCIES_FAILED,
            "installing requirements.txt failed; pip's output is in the log",
        )
    return BuildFailure(FailureReason.DOCKERFILE_FAILED, f"the Dockerfile did not build: {last}")


def _last_error(lines: Sequence[str]) -> str | None:
    for line in reversed(lines):
        text = line.strip()
        if text.lower().startswith(("error", "fatal")):
            return text
    return None


def _disruption(pod: Obj | None) -> str | None:
    """Why the cluster ended the pod (evicted, node lost, preempted), or None."""
    status = (pod or {}).get("status") or {}
    if status.get("reason") in _DISRUPTED:
        return f"the cluster ended the build pod: {status['reason']} ({status.get('message', '')})"
    for condition in status.get("conditions") or []:
        if condition.get("type") == "DisruptionTarget" and condition.get("status") == "True":
            return f"the cluster ended the build pod: {condition.get('reason', 'disrupted')}"
    return None


def _job_reason(ended: dict[str, Obj]) -> str:
    for kind in ("Failed", "Complete"):
        if kind in ended:
            return f"{kind}: {ended[kind].get('reason') or ended[kind].get('message') or '?'}"
    return "?"
