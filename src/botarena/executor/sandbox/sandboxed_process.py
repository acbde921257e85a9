"""A running agent process, sandboxed or not, and everything needed to end it cleanly.

The referee talks to it over :attr:`~SandboxedProcess.stdin` and
:attr:`~SandboxedProcess.stdout` (raw, unbuffered binary pipes) and reads
:attr:`~SandboxedProcess.stderr`. :meth:`~SandboxedProcess.close` must always be called (or
the object used as a context manager): it kills the whole process tree, reaps it, closes the
pipes and removes the cgroups.
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import time
from typing import IO

from botarena.closing import Closing
from botarena.executor.sandbox.cgroup_base import Cgroup
from botarena.executor.sandbox.errors import CgroupError, SandboxError
from botarena.executor.sandbox.exits import (
    ExitStatus,
    ReportsExit,
    decode_plain,
    decode_sandboxed,
)
from botarena.executor.sandbox.limits import Limits
from botarena.executor.sandbox.status_pipe import StatusPipe, kill_sandbox_init

REAP_TIMEOUT = 5.0
# How long bubblewrap gets to reap its killed init and exit by itself.
INIT_GRACE = 1.0
# The OOM killer counts its kill just after sending SIGKILL; give the counter that long.
_OOM_SETTLE = 0.1


class SandboxedProcess(ReportsExit, Closing):
    def __init__(
        self,
        popen: subprocess.Popen[bytes],
        limits: Limits,
        *,
        cgroup: Cgroup | None = None,
        status: StatusPipe | None = None,
    ) -> None:
        if popen.stdin is None or popen.stdout is None or popen.stderr is None:
            raise ValueError("a sandboxed process is spawned with three pipes")
        self._popen = popen
        self._limits = limits
        self._cgroup = cgroup
        self._status = status
        self.stdin: IO[bytes] = popen.stdin
        self.stdout: IO[bytes] = popen.stdout
        self.stderr: IO[bytes] = popen.stderr
        self._kill_requested = False
        self._exit: ExitStatus | None = None
        self._memory_peak: int | None = None
        self._cpu_seconds: float | None = None
        self._closed = False

    @property
    def pid(self) -> int:
        """The host pid of what we started: bubblewrap, or the program when unsandboxed."""
        return self._popen.pid

    @property
    def sandboxed(self) -> bool:
        return self._status is not None

    @property
    def cgroup(self) -> Cgroup | None:
        return self._cgroup

    @property
    def returncode(self) -> int | None:
        """The raw return code of :attr:`pid`; :meth:`exit_status` says what it means."""
        return self._popen.returncode

    def poll(self) -> int | None:
        returncode = self._popen.poll()
        if returncode is not None:
            self._settle(returncode)
        return returncode

    def wait(self, timeout: float | None = None) -> int:
        """Wait for the end; raises :class:`subprocess.TimeoutExpired` after ``timeout``."""
        returncode = self._popen.wait(timeout)
        self._settle(returncode)
        return returncode

    def kill(self) -> None:
        """SIGKILL every process of the sandbox now; :meth:`close` still has to follow."""
        if self._popen.poll() is None:
            self._kill_requested = True
            if self._status is not None and kill_sandbox_init(self._status, self._popen.pid):
                # Killing the namespace's init kills every process in it; bubblewrap reaps it
                # and exits. Killing bubblewrap first would orphan the init as a zombie for
                # the host's init to reap, whenever it gets round to it.
                with contextlib.suppress(subprocess.TimeoutExpired):
                    self._popen.wait(INIT_GRACE)
        if self._cgroup is not None:
            self._cgroup.kill_all()
        if not self.sandboxed:
            # Its own session and process group: take down whatever it started as well.
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.killpg(self._popen.pid, signal.SIGKILL)
        self._popen.kill()

    def close(self) -> None:
        """Kill, reap, close the pipes and remove the cgroups; safe to call again."""
        if self._closed:
            return
        self._closed = True
        try:
            self.kill()
            try:
                self.wait(REAP_TIMEOUT)
            except subprocess.TimeoutExpired as exc:
                message = f"process {self.pid} did not die within {REAP_TIMEOUT} s"
                raise SandboxError(message) from exc
        finally:
            self._release()

    def exit_status(self) -> ExitStatus | None:
        """How it ended, or ``None`` while it runs."""
        if self._exit is None:
            self.poll()
        return self._exit

    def memory_peak_bytes(self) -> int | None:
        """Highest memory use (cgroup accounting, ``/tmp`` included), when a cgroup tells."""
        if self._exit is None and self._cgroup is not None and not self._closed:
            return self._cgroup.memory_peak_bytes()
        return self._memory_peak

    def cpu_seconds(self) -> float | None:
        """CPU time used by the whole sandbox so far, when a cgroup tells."""
        if self._exit is None and self._cgroup is not None and not self._closed:
            return self._cgroup.cpu_seconds()
        return self._cpu_seconds

    def _settle(self, returncode: int) -> None:
        """Record how it ended while the cgroup (and its counters) still exists."""
        if self._exit is not None:
            return
        if self._status is None:
            code, signum, failed = decode_plain(returncode)
        else:
            program_ran = self._status.exit_code() is not None
            code, signum, failed = decode_sandboxed(returncode, program_ran=program_ran)
        killed = signum == signal.SIGKILL
        out_of_memory = limited = False
        if self._cgroup is not None:
            limited = self._cgroup.process_limit_hit()
            out_of_memory = self._cgroup.oom_killed()
            deadline = time.monotonic() + _OOM_SETTLE
            while killed and not self._kill_requested and not out_of_memory:
                if time.monotonic() >= deadline:
                    break
                time.sleep(0.01)
                out_of_memory = self._cgroup.oom_killed()
            self._memory_peak = self._cgroup.memory_peak_bytes()
            self._cpu_seconds = self._cgroup.cpu_seconds()
        self._exit = ExitStatus(
            code=code,
            signal=signum,
            out_of_memory=out_of_memory,
            stopped_by_host=self._kill_requested and killed,
            failed_to_start=failed,
            memory_limit_bytes=self._limits.memory_bytes if self._cgroup is not None else None,
            process_limit_hit=limited,
        )

    def _release(self) -> None:
        for pipe in (self.stdin, self.stdout, self.stderr):
            with contextlib.suppress(OSError):
                pipe.close()
        if self._status is not None:
            self._status.close()
        if self._cgroup is not None:
            try:
                self._cgroup.remove()
            except CgroupError as exc:
                raise SandboxError(f"the sandbox's cgroup was left behind: {exc}") from exc
