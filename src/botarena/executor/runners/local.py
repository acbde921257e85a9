"""The ``local`` runner: each agent in its own bubblewrap sandbox with cgroup limits.

Inside, an agent sees its own folder at ``/agent`` (read-only), its environment at ``/env``,
the Python runtime and the system's runtime folders (read-only), the agent shim at
``/opt/botarena``, and a private size-capped ``/tmp``; no network, no other process.

With ``fork_server=True`` (and cgroups), Python agents are forked from a fork server per
agent (see :mod:`botarena.executor.forkserver`), which saves most of their start-up; it pays
off from the second match on; one is kept per artifact identity (a replaced or removed folder
retires it). :meth:`LocalRunner.close` stops the fork servers.
"""

from __future__ import annotations

import secrets
from pathlib import Path

import botarena
from botarena.closing import Closing
from botarena.executor.agent_process import AgentProcess
from botarena.executor.forkserver import ZygotePool
from botarena.executor.forkserver.identity import ArtifactKey, still_current
from botarena.executor.prepare import ENTRY_FILE, PreparedAgent
from botarena.executor.sandbox import (
    Limits,
    SandboxSpec,
    SandboxUnavailable,
    detect_cgroup_driver,
    probe_isolation,
    python_runtime_binds,
    real_python,
    spawn,
    spawn_unsandboxed,
)

AGENT_DIR = "/agent"
ENV_DIR = "/env"
SHIM_ROOT = "/opt/botarena"


class LocalRunner(Closing):
    """Starts agents on this machine, sandboxed; unsandboxed only when explicitly allowed."""

    def __init__(
        self,
        limits: Limits | None = None,
        *,
        allow_unsandboxed: bool = False,
        fork_server: bool = True,
    ) -> None:
        self.limits = limits or Limits()
        report = probe_isolation()
        self._sandboxed = report.bwrap
        if not self._sandboxed and not allow_unsandboxed:
            raise SandboxUnavailable(report.describe())
        self._driver = detect_cgroup_driver() if self._sandboxed else None
        self._isolation = report.describe()
        # Without cgroups a forked agent's leftovers could not be found and killed.
        self.pool: ZygotePool | None = None
        if fork_server and self._driver is not None:
            self.pool = ZygotePool(self.limits, self._driver, current=still_current)

    @property
    def isolation(self) -> str:
        return self._isolation

    @property
    def sandboxed(self) -> bool:
        return self._sandboxed

    def start(self, agent: PreparedAgent, *, name: str) -> AgentProcess:
        if not self._sandboxed:
            return spawn_unsandboxed(agent_spec(agent, sandboxed=False), self.limits)
        spec = agent_spec(agent)
        if self.pool is not None and agent.is_python:
            # By identity: a zygote of a folder since replaced or removed is never reused.
            return self.pool.start(ArtifactKey.of(agent), spec, name=name)
        unique = f"{name}-{secrets.token_hex(4)}"
        return spawn(spec, self.limits, name=unique, driver=self._driver)

    def close(self) -> None:
        """Stop the fork servers; agents still running die with theirs. Safe to call again."""
        if self.pool is not None:
            self.pool.close()


def agent_spec(agent: PreparedAgent, *, sandboxed: bool = True) -> SandboxSpec:
    """What a prepared agent runs and what it sees: sandbox paths, or host paths without one."""
    package = Path(botarena.__file__).parent
    code = AGENT_DIR if sandboxed else str(agent.code_dir)
    shim_root = SHIM_ROOT if sandboxed else str(package.parent)
    binds: list[tuple[Path, str]] = [
        *python_runtime_binds(),
        (agent.code_dir, AGENT_DIR),
        (package, f"{SHIM_ROOT}/botarena"),
    ]
    path = "/usr/local/bin:/usr/bin:/bin"
    if agent.env_dir is not None:
        env_root = ENV_DIR if sandboxed else str(agent.env_dir)
        binds.append((agent.env_dir, ENV_DIR))
        python = f"{env_root}/bin/python"
        path = f"{env_root}/bin:{path}"
    else:
        python = str(real_python())
    if agent.command is None:
        command = [python, "-m", "botarena.sdk", "--main", f"{code}/{ENTRY_FILE}"]
    else:
        command = list(agent.command)
    env = {
        "PATH": path,
        "HOME": "/tmp",  # noqa: S108 - the sandbox's private tmpfs
        "LANG": "C.UTF-8",
        "PYTHONPATH": shim_root,
        "PYTHONDONTWRITEBYTECODE": "1",
        "PYTHONNOUSERSITE": "1",
    }
    return SandboxSpec(command=command, ro_binds=binds if sandboxed else [], env=env, cwd=code)
