"""The names a Kubernetes build gives what it makes: its image and its Jobs.

Each is checked as it is made, so a name the registry or the API server would refuse is a
``ValueError`` here, naming the value, and never a failed push or a 422 halfway through.
"""

from __future__ import annotations

from botarena.kube_syntax import (
    check_dns_label,
    check_image_reference,
    check_repository,
    check_tag,
)


def image_reference(registry: str, agent_id: str, submission_id: str, version: int) -> str:
    """``{registry}/agent-{agentId}:{submissionId}-v{version}``, where the build pushes."""
    if version < 1:
        raise ValueError(f"a submission version starts at 1, not {version}")
    repository = check_repository(f"{registry.rstrip('/')}/agent-{agent_id}", "image repository")
    tag = check_tag(f"{submission_id}-v{version}", "image tag")
    return check_image_reference(f"{repository}:{tag}", "image reference")


def build_job_name(submission_id: str, attempt: int) -> str:
    """``build-{submissionId}`` for a first attempt, ``build-{submissionId}-{attempt}`` after.

    Submission ids are at most 32 characters (``ids.new_id`` makes 28), so the name stays well
    inside a DNS label's 63. A longer or unusual id is refused rather than cut short: two
    submissions sharing a prefix must never share a Job.
    """
    if attempt < 1:
        raise ValueError(f"a build attempt starts at 1, not {attempt}")
    suffix = "" if attempt == 1 else f"-{attempt}"
    return check_dns_label(f"build-{submission_id}{suffix}", "build Job name")
