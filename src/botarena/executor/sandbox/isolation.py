"""What isolation this machine gives agents, found by trying it, in one sentence for logs.

bubblewrap can be installed yet unusable (user namespaces switched off, a container that
forbids mounts, no libseccomp for the syscall filter), so the probe runs one trivial sandbox,
filter included, once per process.
"""

from __future__ import annotations

import functools
import os
import subprocess
from dataclasses import dataclass
from pathlib import Path

from botarena.executor.sandbox.bwrap import SandboxSpec, bwrap_argv, find_bwrap
from botarena.executor.sandbox.cgroup_base import CgroupDriver
from botarena.executor.sandbox.cgroups import detect_cgroup_driver
from botarena.executor.sandbox.errors import CgroupError, SandboxUnavailable
from botarena.executor.sandbox.limits import Limits
from botarena.executor.sandbox.process import pipe_holding
from botarena.executor.sandbox.runtime import python_runtime_binds, real_python
from botarena.executor.sandbox.seccomp import syscall_filter

PROBE_TIMEOUT = 10.0
_CONTROLLERS = "memory, processes, CPU"
_INSTALL_BWRAP = "sudo apt-get install bubblewrap"
# Nearly always why bubblewrap fails: the kernel (or a container around this server)
# refuses the unprivileged user namespace it starts in.
_USERNS_REMEDY = (
    "allow unprivileged user namespaces (sudo sysctl -w kernel.unprivileged_userns_clone=1; "
    "on Ubuntu 23.10 and later sudo sysctl -w kernel.apparmor_restrict_unprivileged_userns=0), "
    "or run the server where they are allowed (not in an unprivileged container)"
)


@dataclass(frozen=True)
class IsolationReport:
    """``bwrap``: a sandbox really ran. ``cgroups``: the driver kind ("v1", "v2") or None."""

    bwrap: bool
    cgroups: str | None
    bwrap_path: Path | None = None
    problem: str | None = None

    def describe(self) -> str:
        missing = self.unavailable_reason()
        if missing is not None:
            return f"no sandbox: {missing}"
        if self.cgroups is None:
            return "bubblewrap sandbox with a syscall filter, without cgroup limits (rlimits only)"
        return (
            f"bubblewrap sandbox with a syscall filter and cgroup {self.cgroups} limits "
            f"({_CONTROLLERS})"
        )

    def unavailable_reason(self) -> str | None:
        """Why no sandbox can start here and what to do about it; None when one can."""
        if self.bwrap:
            return None
        if self.bwrap_path is None:
            return f"bubblewrap is not installed (install the bubblewrap package: {_INSTALL_BWRAP})"
        if self.problem and "libseccomp" in self.problem:
            # The filter's own sentence names the package to install.
            return self.problem
        return (
            f"bubblewrap is installed but cannot start a sandbox ({self.problem}); {_USERNS_REMEDY}"
        )


@functools.cache
def probe_isolation() -> IsolationReport:
    driver = _working_driver()
    kind = None if driver is None else driver.kind
    path = find_bwrap()
    if path is None:
        return IsolationReport(bwrap=False, cgroups=kind)
    problem = _try_bwrap(path)
    return IsolationReport(bwrap=problem is None, cgroups=kind, bwrap_path=path, problem=problem)


def _try_bwrap(path: Path) -> str | None:
    """Run the real interpreter in a sandbox built like an agent's; the problem, if any."""
    spec = SandboxSpec(command=[str(real_python()), "-c", "pass"], ro_binds=python_runtime_binds())
    try:
        filter_fd = pipe_holding(syscall_filter())
    except SandboxUnavailable as exc:
        return str(exc)
    try:
        result = subprocess.run(
            bwrap_argv(spec, Limits(), bwrap=path, seccomp_fd=filter_fd),
            capture_output=True,
            timeout=PROBE_TIMEOUT,
            check=False,
            env={},
            pass_fds=(filter_fd,),
        )
    except (OSError, subprocess.TimeoutExpired) as exc:
        return str(exc)
    finally:
        os.close(filter_fd)
    if result.returncode == 0:
        return None
    message = result.stderr.decode(errors="replace").strip().splitlines()
    return message[-1] if message else f"exit status {result.returncode}"


def _working_driver() -> CgroupDriver | None:
    """The detected driver, if it can really make (and remove) a cgroup."""
    driver = detect_cgroup_driver()
    if driver is None:
        return None
    try:
        driver.create(f"probe-{os.getpid()}", Limits()).remove()
    except CgroupError:
        return None
    return driver
