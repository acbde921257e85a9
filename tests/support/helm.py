"""Helm in the tests, offline: a chart linted, and rendered by installing it with Helm 4's
own engine (helm-sdkpy) on the fake Kubernetes API server.

helm-sdkpy has no ``helm template``: a release is rendered by an install, which needs an API
server to answer discovery, to take the objects and to run the hooks (the fake's Job
controller completes a hook Job's pod). ``HELM_DRIVER=memory`` keeps the release record out of
the cluster (Helm would otherwise write it as a Secret through a protobuf request, which the
fake does not read). Each call is a process of its own (``helm_run.py``).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

_RUNNER = Path(__file__).with_name("helm_run.py")


class HelmError(AssertionError):
    """Helm refused: its message, as it said it."""


@dataclass
class Release:
    """What an install rendered: the chart's objects and its hooks, as dictionaries."""

    manifests: list[dict[str, Any]]
    hooks: list[dict[str, Any]]
    notes: str

    @property
    def everything(self) -> list[dict[str, Any]]:
        return self.manifests + self.hooks

    def find(self, kind: str, name: str | None = None) -> list[dict[str, Any]]:
        return [
            doc
            for doc in self.everything
            if doc["kind"] == kind and name in (None, doc["metadata"]["name"])
        ]

    def one(self, kind: str, name: str | None = None) -> dict[str, Any]:
        [found] = self.find(kind, name)
        return found


def _run(args: list[str], stdin: str = "") -> Any:
    environment = {**os.environ, "HELM_DRIVER": "memory"}
    done = subprocess.run(
        [sys.executable, str(_RUNNER), *args],
        input=stdin,
        capture_output=True,
        text=True,
        env=environment,
        timeout=120,
        check=False,
    )
    if done.returncode != 0:
        lines = done.stderr.strip().splitlines()
        raise HelmError(lines[-1] if lines else f"helm exited {done.returncode}")
    return json.loads(done.stdout)


def lint(chart: Path) -> dict[str, Any]:
    """Helm's lint of ``chart``: its messages (severity 1 info, 2 warning, 3 error)."""
    result: dict[str, Any] = _run(["lint", str(chart)])
    return result


def install(
    chart: Path,
    kubeconfig: Path,
    values: dict[str, Any],
    *,
    release: str,
    namespace: str,
    adopt: bool = False,
) -> Release:
    """Install ``chart`` with ``values`` on the API server of ``kubeconfig``; what it made.
    ``adopt``: objects that exist already are taken over (as an upgrade finds its own)."""
    args = ["install", str(chart), release, namespace, str(kubeconfig)]
    answer = _run([*args, "adopt"] if adopt else args, stdin=json.dumps(values))
    manifests = [doc for doc in yaml.safe_load_all(answer.get("manifest") or "") if doc]
    hooks = [
        doc
        for hook in answer.get("hooks") or []
        for doc in yaml.safe_load_all(hook.get("manifest") or "")
        if doc
    ]
    notes = (answer.get("info") or {}).get("notes") or ""
    return Release(manifests, hooks, notes)
