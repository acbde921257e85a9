"""The build's image reference and Job names: the exact forms, and the names refused."""

from __future__ import annotations

import pytest

from botarena.builds.kubernetes.names import build_job_name, image_reference
from botarena.ids import new_id


def test_the_image_reference_has_the_issues_exact_form() -> None:
    assert (
        image_reference("registry.example.org/botarena", "agt-1a2b", "sub-3f9c", 2)
        == "registry.example.org/botarena/agent-agt-1a2b:sub-3f9c-v2"
    )
    assert (
        image_reference("localhost:5000/", "agt-1", "sub-2", 1)
        == "localhost:5000/agent-agt-1:sub-2-v1"
    )


def test_real_ids_make_a_valid_reference() -> None:
    agent, submission = new_id("agt"), new_id("sub")
    reference = image_reference("registry.example.org:5000/a/b", agent, submission, 12)
    assert reference == f"registry.example.org:5000/a/b/agent-{agent}:{submission}-v12"


@pytest.mark.parametrize(
    ("registry", "agent", "submission", "version", "refused"),
    [
        ("registry.example.org", "agt-1", "s" * 126, 1, "image tag"),  # tag of 129
        ("registry.example.org", "agt-1", "sub 1", 1, "image tag"),
        ("registry.example.org", "agt-1", "sub/1", 1, "image tag"),
        ("registry.example.org", "AGT-1", "sub-1", 1, "image repository"),
        ("registry.example.org", "agt_-1", "sub-1", 1, "image repository"),
        ("botarena", "agt-1", "sub-1", 1, "registry host"),
        ("registry.example.org", "agt-1", "sub-1", 0, "version starts at 1"),
    ],
)
def test_a_reference_registries_would_refuse_is_refused(
    registry: str, agent: str, submission: str, version: int, refused: str
) -> None:
    with pytest.raises(ValueError, match=refused):
        image_reference(registry, agent, submission, version)


def test_a_tag_of_128_characters_is_the_longest_taken() -> None:
    reference = image_reference("registry.example.org", "agt-1", "s" * 125, 1)
    assert len(reference.rsplit(":", 1)[1]) == 128


def test_build_job_names_count_attempts_after_the_first() -> None:
    assert build_job_name("sub-3f9c", 1) == "build-sub-3f9c"
    assert build_job_name("sub-3f9c", 2) == "build-sub-3f9c-2"
    submission = new_id("sub")
    assert build_job_name(submission, 12) == f"build-{submission}-12"
    # The longest id the table holds (32 characters) leaves room for any attempt count.
    assert len(build_job_name("s" * 32, 10**9)) <= 63


@pytest.mark.parametrize(
    ("submission", "attempt", "refused"),
    [
        ("s" * 58, 1, "DNS-1123 label"),  # 64 characters: refused, never cut short
        ("s" * 56, 2, "DNS-1123 label"),
        ("Sub-1", 1, "DNS-1123 label"),
        ("sub_1", 1, "DNS-1123 label"),
        ("sub-", 1, "DNS-1123 label"),
        ("sub-1", 0, "attempt starts at 1"),
    ],
)
def test_a_job_name_the_api_would_refuse_is_refused(
    submission: str, attempt: int, refused: str
) -> None:
    with pytest.raises(ValueError, match=refused):
        build_job_name(submission, attempt)


def test_the_longest_name_is_taken() -> None:
    assert len(build_job_name("s" * 57, 1).removeprefix("build-")) == 57
