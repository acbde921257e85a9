"""The ``local`` backend: the agent's folder plus a virtual environment built in a sandbox.

The environment is installed by pip inside bubblewrap, whose only way out is an egress proxy
that admits the package index and the hosts in ``egress_allow`` (see
:mod:`botarena.executor.installers.egress`), and cached by the hash of the requirements: a
rebuild with unchanged requirements reuses it.

Each build attempt writes a folder of its own, ``artifacts/{submissionId}/{buildId}/code``,
never touched again (see :mod:`botarena.executor.artifact_folders`): a rebuild never changes
the folder a match or a warm fork server plays.
"""

from __future__ import annotations

import shutil
from collections.abc import Sequence
from pathlib import Path

from botarena.builds.backends.base import Artifact, BuildTarget
from botarena.builds.failures import BuildFailure, FailureReason
from botarena.builds.log import BuildLog
from botarena.executor.artifact_folders import attempts, make_attempt, retire
from botarena.executor.artifacts import ARTIFACTS, CACHE
from botarena.executor.installers import SandboxedInstaller
from botarena.executor.installers.base import PrepareError
from botarena.executor.prepare import prepare_agent
from botarena.executor.runners.base import Runner
from botarena.executor.runners.local import LocalRunner
from botarena.executor.sandbox import Limits, probe_isolation

_REASONS = {
    "dependencies_failed": (FailureReason.DEPENDENCIES_FAILED, False),
    "timeout": (FailureReason.TIMEOUT, False),
    "no_entry_point": (FailureReason.VALIDATION_FAILED, False),
    "invalid_manifest": (FailureReason.VALIDATION_FAILED, False),
    "not_found": (FailureReason.INTERNAL, True),
    "internal": (FailureReason.INTERNAL, True),
}


class LocalBackend:
    """Prepared folders under ``data_dir``; agents run in the local sandbox."""

    name = "local"

    def __init__(
        self,
        data_dir: Path,
        limits: Limits | None = None,
        install_timeout: float = 600,
        *,
        egress_allow: Sequence[str] = (),
    ):
        # Resolved: an artifact's record holds absolute paths without links, the only ones an
        # executor accepts (a relative data folder, the default, would give relative ones).
        self.data_dir = data_dir.resolve()
        self.limits = limits or Limits()
        self.install_timeout = install_timeout
        self.egress_allow = tuple(egress_allow)
        self._runner: LocalRunner | None = None

    def unavailable_reason(self) -> str | None:
        return probe_isolation().unavailable_reason()

    def build(self, target: BuildTarget, source: Path, log: BuildLog) -> Artifact:
        submission_id = target.submission_id
        code_dir = make_attempt(self._submission_dir(target), target.build_id)
        shutil.move(str(source), code_dir)
        log.step("installing requirements")
        try:
            prepared = prepare_agent(
                code_dir,
                self.data_dir / CACHE,
                name=submission_id,
                on_output=log.write,
                install_timeout=self.install_timeout,
                installer=SandboxedInstaller(self.limits, egress_allow=self.egress_allow),
            )
        except PrepareError as exc:
            reason, platform = _REASONS.get(exc.reason, (FailureReason.INTERNAL, True))
            raise BuildFailure(reason, str(exc), platform_fault=platform) from exc
        return Artifact(
            backend=self.name,
            code_dir=str(prepared.code_dir),
            env_dir=str(prepared.env_dir) if prepared.env_dir else None,
            command=prepared.command,
            build_id=target.build_id,
        )

    def retire(self, target: BuildTarget, current: Artifact | None) -> None:
        keep = Path(current.code_dir).parent if current and current.code_dir else None
        for attempt in attempts(self._submission_dir(target)):
            if attempt != keep and attempt.name <= target.build_id:
                retire(attempt)

    def _submission_dir(self, target: BuildTarget) -> Path:
        return self.data_dir / ARTIFACTS / target.submission_id

    def runner(self) -> Runner:
        if self._runner is None:
            self._runner = LocalRunner(self.limits)
        return self._runner

    def close(self) -> None:
        """Stop the runner's fork servers, if it was started. Safe to call again."""
        if self._runner is not None:
            self._runner.close()
            self._runner = None
