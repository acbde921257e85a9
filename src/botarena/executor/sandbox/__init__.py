"""Run untrusted agent programs isolated: bubblewrap namespaces, cgroup limits and rlimits.

:func:`spawn` starts one agent process in a sandbox and returns a :class:`SandboxedProcess`
whose pipes the referee talks over; :meth:`SandboxedProcess.close` ends it and cleans up.
:func:`probe_isolation` says what this machine can do; :func:`detect_cgroup_driver` finds the
cgroup hierarchy that :func:`spawn` is given.
"""

from botarena.executor.sandbox.bwrap import (
    SandboxSpec,
    bwrap_argv,
    find_bwrap,
    python_runtime_binds,
    real_python,
)
from botarena.executor.sandbox.cgroups import Cgroup, CgroupDriver, detect_cgroup_driver
from botarena.executor.sandbox.errors import CgroupError, SandboxError, SandboxUnavailable
from botarena.executor.sandbox.exits import ExitStatus
from botarena.executor.sandbox.isolation import IsolationReport, probe_isolation
from botarena.executor.sandbox.limits import Limits
from botarena.executor.sandbox.process import SandboxedProcess, spawn, spawn_unsandboxed

__all__ = [
    "Cgroup",
    "CgroupDriver",
    "CgroupError",
    "ExitStatus",
    "IsolationReport",
    "Limits",
    "SandboxError",
    "SandboxSpec",
    "SandboxUnavailable",
    "SandboxedProcess",
    "bwrap_argv",
    "detect_cgroup_driver",
    "find_bwrap",
    "probe_isolation",
    "python_runtime_binds",
    "real_python",
    "spawn",
    "spawn_unsandboxed",
]
