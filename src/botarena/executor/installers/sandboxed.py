"""Installing requirements inside a bubblewrap sandbox, for the server: the packages' build
code is untrusted.

One sandbox does the whole install, as strict as an agent's (no capabilities, uid 65534, a
read-only system, its own pid namespace, cgroup limits). Inside,
:mod:`~botarena.executor.installers.inside` copies the agent's folder (or only its
requirements, when they name no local files) to a tmpfs at ``/agent``, creates the
environment on a tmpfs at ``/env`` (the same paths as at run time, so scripts and editable
installs point to the right places), runs the host interpreter's pip there, and copies
``/env`` out through a gate that the build code cannot find (see :mod:`.staging`). Each tmpfs
(``/env``, ``/agent``, pip's scratch ``/tmp``) is capped at ``disk_bytes``, so an install that
needs more fails with "No space left on device"; tmpfs is memory, so where cgroups apply it
also counts towards ``limits.memory_bytes``. The whole sandbox is killed past the timeout.

The sandbox has a network namespace of its own, with only a loopback interface: nothing of
the host's network, its loopback services included, is in reach. Its one way out is the
install's :class:`~botarena.executor.installers.egress.EgressProxy`, whose Unix socket is
bound in at :data:`EGRESS_DIR`; pip reaches it through a relay on the sandbox's loopback,
and it admits the package index and the hosts the operator allows, nothing else (see
:mod:`botarena.executor.installers.egress`). The host's proxy variables stay outside: the
egress proxy chains to the host's proxy when there is one.
"""

from __future__ import annotations

import contextlib
import json
import os
import secrets
import subprocess
from collections.abc import Mapping, Sequence
from pathlib import Path

from botarena.executor.installers import inside
from botarena.executor.installers.base import OutputSink, OutputTail, PrepareError, say
from botarena.executor.installers.egress import (
    EgressProxy,
    ProxyLimits,
    build_allow_list,
    start_egress_proxy,
)
from botarena.executor.installers.egress.proxy import SOCKET_NAME
from botarena.executor.installers.host_config import host_binds, pip_variables
from botarena.executor.installers.requirements import refers_to_local_files, requirement_lines
from botarena.executor.installers.staging import Staging
from botarena.executor.sandbox import (
    Limits,
    SandboxedProcess,
    SandboxError,
    SandboxSpec,
    detect_cgroup_driver,
    python_runtime_binds,
    real_python,
    spawn,
)
from botarena.executor.sandbox.bwrap import default_env
from botarena.executor.sandbox.limits import GIB, format_bytes

# The same paths as an agent sees at run time (see botarena.executor.runners.local).
ENV_DIR = "/env"
AGENT_DIR = "/agent"
# The agent's folder as uploaded, read-only; copied to AGENT_DIR, where builds may write.
SOURCE_DIR = "/source"
GATE_DIR = "/out"
# The egress proxy's folder, holding its socket.
EGRESS_DIR = "/run/botarena-egress"
PROGRAM = "/opt/botarena-installer/inside.py"
SCRATCH = "/tmp"  # noqa: S108 - the sandbox's private tmpfs
_DRAIN_TIMEOUT = 5.0
_INTERNAL_STEPS = {
    inside.VENV_FAILED: "creating the environment",
    inside.COPY_FAILED: "copying the environment out",
    inside.SETUP_FAILED: "starting the install",
}


class SandboxedInstaller:
    """Builds each environment in a fresh sandbox with time, memory and disk limits, whose
    only network is its own egress proxy.

    ``egress_allow`` adds ``host`` or ``host:port`` entries to the allow-list made from
    pip's configuration (``BOTARENA_BUILD_EGRESS_ALLOW``); a bad entry raises ValueError.
    """

    layout = f"sandboxed:{ENV_DIR}"

    def __init__(
        self,
        limits: Limits,
        disk_bytes: int = 2 * GIB,
        *,
        egress_allow: Sequence[str] = (),
        egress_limits: ProxyLimits | None = None,
    ) -> None:
        if disk_bytes <= 0:
            raise ValueError(f"disk_bytes must be positive, not {disk_bytes}")
        self.limits = limits
        self.disk_bytes = disk_bytes
        self.egress_allow = tuple(egress_allow)
        self.egress_limits = egress_limits
        build_allow_list({}, self.egress_allow)  # refuses a bad entry now, not at a build
        self._driver = detect_cgroup_driver()

    def install(
        self,
        requirements: Path,
        target: Path,
        *,
        on_output: OutputSink | None,
        timeout: float,
    ) -> None:
        say(on_output, f"installing {requirements.name} in a sandbox")
        staging = Staging(target)
        try:
            self._run(requirements, staging, on_output, timeout)
            staging.finish(target)
        finally:
            staging.remove()

    def spec(self, requirements: Path, gate: Path, egress: Path) -> SandboxSpec:
        """The sandbox of one install; ``gate`` is the host folder seen at :data:`GATE_DIR`,
        ``egress`` the egress proxy's folder, seen at :data:`EGRESS_DIR`."""
        python = str(real_python())
        name = requirements.name
        if refers_to_local_files(requirement_lines(requirements)):
            source = ["cp", "-a", f"{SOURCE_DIR}/.", f"{AGENT_DIR}/"]
        else:
            source = ["cp", f"{SOURCE_DIR}/{name}", f"{AGENT_DIR}/{name}"]
        # -I: the agent's files in the working folder must not shadow pip's own modules.
        pip = [python, "-I", "-m", "pip", "--python", f"{ENV_DIR}/bin/python", "install"]
        # pip compiles to bytecode: agents run with a read-only /env and would otherwise
        # compile every module again at each start. No cache: each sandbox starts empty.
        options = ["--no-input", "--disable-pip-version-check", "--no-warn-script-location"]
        plan = {
            "source": source,
            "venv": [python, "-I", "-m", "venv", "--without-pip", ENV_DIR],
            "pip": [*pip, *options, "--no-cache-dir", "-r", f"{AGENT_DIR}/{name}"],
            "cwd": AGENT_DIR,
            "env": ENV_DIR,
            "out": GATE_DIR,
            "proxy": f"{EGRESS_DIR}/{SOCKET_NAME}",
        }
        return SandboxSpec(
            command=[python, "-I", PROGRAM, json.dumps(plan)],
            ro_binds=[
                *python_runtime_binds(),
                *host_binds(os.environ),
                (requirements.parent, SOURCE_DIR),
                (Path(inside.__file__), PROGRAM),
                (egress, EGRESS_DIR),
            ],
            env={**default_env(), "TMPDIR": SCRATCH, **sandbox_pip_variables(os.environ)},
            tmp_bytes=self.disk_bytes,
            tmpfs_mounts=[(ENV_DIR, self.disk_bytes), (AGENT_DIR, self.disk_bytes)],
            rw_binds=[(gate, GATE_DIR)],
        )

    def egress_proxy(self, on_output: OutputSink | None, name: str) -> EgressProxy:
        """A started proxy for one install, with the allow-list as configured now."""
        try:
            return start_egress_proxy(
                self.egress_allow, on_output, name=name, limits=self.egress_limits
            )
        except (OSError, ValueError) as exc:
            raise PrepareError("internal", f"cannot start the egress proxy: {exc}") from exc

    def _run(
        self, requirements: Path, staging: Staging, on_output: OutputSink | None, timeout: float
    ) -> None:
        name = f"install-{secrets.token_hex(6)}"
        output = OutputTail(on_output)
        with self.egress_proxy(output.add, name) as egress:
            allowed = ", ".join(sorted(str(endpoint) for endpoint in egress.policy.allowed))
            say(on_output, f"network: only through the egress proxy, to {allowed}")
            self._sandbox(requirements, staging, egress, output, timeout, name)

    def _sandbox(
        self,
        requirements: Path,
        staging: Staging,
        egress: EgressProxy,
        output: OutputTail,
        timeout: float,
        name: str,
    ) -> None:
        # The folder resolved, never the file: a requirements.txt linking to a host file
        # would otherwise have that file's folder bound into the sandbox.
        spec = self.spec(
            requirements.parent.resolve() / requirements.name, staging.gate, egress.folder
        )
        try:
            process = spawn(spec, self.limits, name=name, driver=self._driver)
        except SandboxError as exc:
            raise PrepareError("internal", f"cannot start the install sandbox: {exc}") from exc
        timed_out = False
        with process:  # closing it kills whatever is left and removes its cgroup
            readers = [output.start(process.stdout), output.start(process.stderr)]
            _send_name(process, staging.name)
            try:
                process.wait(timeout)
            except subprocess.TimeoutExpired:
                timed_out = True
                process.kill()
            # The pipes end once every process of the sandbox is gone: read them to the end.
            for reader in readers:
                reader.join(timeout=_DRAIN_TIMEOUT)
        if timed_out:
            raise PrepareError("timeout", f"installing requirements took over {timeout:g} s")
        self._check(process, output.last_line())

    def _check(self, process: SandboxedProcess, last: str) -> None:
        status = process.exit_status()
        if status is None or status.failed_to_start:
            raise PrepareError("internal", f"the install sandbox could not start: {last}")
        if status.code == 0:
            return
        if status.out_of_memory:
            limit = format_bytes(self.limits.memory_bytes)
            message = f"installing requirements ran out of memory (limit {limit}): {last}"
            raise PrepareError("dependencies_failed", message)
        if status.code in _INTERNAL_STEPS:
            step = _INTERNAL_STEPS[status.code]
            raise PrepareError("internal", f"installing requirements failed {step}: {last}")
        if status.signal is not None:
            message = f"installing requirements was {status.reason()}: {last}"
            raise PrepareError("dependencies_failed", message)
        message = f"installing requirements failed (exit {status.code}): {last}"
        raise PrepareError("dependencies_failed", message)


def sandbox_pip_variables(environ: Mapping[str, str]) -> dict[str, str]:
    """pip's variables for inside the sandbox: the host's proxy settings left out (the
    install program points pip at the egress proxy; the proxy chains to the host's)."""
    return {
        name: value
        for name, value in pip_variables(environ).items()
        if not name.upper().endswith("_PROXY") and name != "PIP_PROXY"
    }


def _send_name(process: SandboxedProcess, name: str) -> None:
    """The staging folder's name, on the program's stdin, which is then closed."""
    # An error means the sandbox ended early; its exit status says why.
    with contextlib.suppress(OSError):
        process.stdin.write(f"{name}\n".encode())
    with contextlib.suppress(OSError):
        process.stdin.close()
