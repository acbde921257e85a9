"""What a build Job's end means, case by case (no cluster): the reasons and whose fault."""

from __future__ import annotations

from typing import Any

import pytest

from botarena.builds.failures import BuildFailure, FailureReason
from botarena.builds.kubernetes.outcome import Going, Pushed, judge

DIGEST = "sha256:" + "0f" * 32
JOB: dict[str, Any] = {"metadata": {"name": "build-sub-1"}, "status": {}}


def pod(state: dict[str, Any], **status: Any) -> dict[str, Any]:
    entry = {"name": "kaniko", "state": state}
    return {
        "metadata": {"name": "build-sub-1-x"},
        "status": {"containerStatuses": [entry], **status},
    }


def ended(code: int, reason: str | None = None, message: str | None = None) -> dict[str, Any]:
    return pod({"terminated": {"exitCode": code, "reason": reason, "message": message}})


def failure(progress: object) -> BuildFailure:
    assert isinstance(progress, BuildFailure), progress
    return progress


def test_going_pushed_and_a_digest_that_is_not_one() -> None:
    assert judge(JOB, None, custom=False) == Going(running=False)
    assert judge(JOB, pod({"running": {}}), custom=False) == Going(running=True)
    assert judge(JOB, ended(0, message=f"{DIGEST}\n"), custom=False) == Pushed(DIGEST)
    missing = failure(judge(JOB, ended(0, message="done"), custom=False))
    assert (missing.reason, missing.platform_fault) == (FailureReason.INTERNAL, True)


@pytest.mark.parametrize(
    ("custom", "reason"),
    [(True, FailureReason.DOCKERFILE_FAILED), (False, FailureReason.DEPENDENCIES_FAILED)],
)
def test_a_failing_step_or_running_out_of_memory_is_the_participants(
    custom: bool, reason: FailureReason
) -> None:
    tail = ["INFO[0001] RUN x", "error building image: ... exit status 2"]
    step = failure(judge(JOB, ended(1), custom=custom, log_tail=tail))
    oom = failure(judge(JOB, ended(137, "OOMKilled"), custom=custom))
    assert (step.reason, step.platform_fault) == (reason, False)
    assert (oom.reason, oom.platform_fault) == (reason, False)
    assert "out of memory" in oom.sentence


def test_the_platforms_faults() -> None:
    pushed_not = failure(
        judge(JOB, ended(1), custom=True, log_tail=["error pushing image: 401 Unauthorized"])
    )
    cut = failure(judge(JOB, ended(1), custom=True, log_tail=["error ..."], context_sent=False))
    generated_other = failure(
        judge(JOB, ended(1), custom=False, log_tail=["error building image: no such base"])
    )
    gone = failure(judge(None, None, custom=True))
    for each in (pushed_not, cut, generated_other, gone):
        assert (each.reason, each.platform_fault) == (FailureReason.INTERNAL, True)


def test_the_deadline_is_a_timeout() -> None:
    job = {
        "metadata": {"name": "build-sub-1"},
        "status": {
            "conditions": [
                {"type": "FailureTarget", "status": "True", "reason": "DeadlineExceeded"}
            ]
        },
    }
    timeout = failure(judge(job, ended(137), custom=True, deadline_seconds=1800))
    assert (timeout.reason, timeout.platform_fault) == (FailureReason.TIMEOUT, False)
    assert timeout.sentence == "the build took longer than its 1800 s"


def test_a_deadline_passed_before_the_context_went_out_is_the_platforms() -> None:
    # The pod never scheduled (or its builder never started): the Job's deadline ran out
    # while the cluster made it wait, so the build is tried again, not blamed on its code.
    job = {
        "metadata": {"name": "build-sub-1"},
        "status": {
            "conditions": [{"type": "Failed", "status": "True", "reason": "DeadlineExceeded"}]
        },
    }
    never = failure(judge(job, None, custom=True, context_sent=False, deadline_seconds=1800))
    assert (never.reason, never.platform_fault) == (FailureReason.INTERNAL, True)
    assert "never ran" in never.sentence
