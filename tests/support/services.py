"""Skip a test whose facility is missing; under ``CI=true`` fail it instead."""

from __future__ import annotations

import os

import pytest

from botarena.executor.sandbox import IsolationReport, probe_isolation


def require_service(name: str, why: str) -> None:
    """Skip, or fail under CI=true, where the run must prove everything for real."""
    if os.environ.get("CI") == "true":
        pytest.fail(f"{name} is required under CI=true but unavailable: {why}")
    pytest.skip(f"{name} unavailable: {why}")


def require_sandbox(*, cgroups: bool = False) -> IsolationReport:
    """The real sandbox (bubblewrap, and cgroup limits when asked), or skip/fail."""
    report = probe_isolation()
    if not report.bwrap or (cgroups and report.cgroups is None):
        require_service("the sandbox", report.describe())
    return report
