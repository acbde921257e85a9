"""An agent process forked by a zygote, seen by the referee like any other agent process.

It runs in a cgroup of its own (the match's), so that killing that cgroup at the end kills
whatever it started, however it detached. How it ended comes from the zygote, which is its
parent; if the zygote itself died, the child died with the sandbox, killed by the kernel.
"""

from __future__ import annotations

import contextlib
import os
import select
import signal
import time
from collections.abc import Callable
from typing import IO

from botarena.executor.forkserver.zygote import ForkedChild, Zygote
from botarena.executor.sandbox import CgroupError, ExitStatus, Limits, SandboxError
from botarena.executor.sandbox.cgroup_base import Cgroup

# How long close() waits for the zygote to report its killed child.
EXIT_REPORT_TIMEOUT = 2.0
# The OOM killer counts its kill just after sending SIGKILL; give the counter that long.
_OOM_SETTLE = 0.1

Release = Callable[[Zygote, bool], None]


class ForkedAgent:
    """Implements :class:`~botarena.executor.agent_process.AgentProcess`."""

    def __init__(
        self, zygote: Zygote, child: ForkedChild, cgroup: Cgroup, limits: Limits, release: Release
    ) -> None:
        self._zygote = zygote
        self._child = child
        self._cgroup = cgroup
        self._limits = limits
        self._release = release
        self.stdin: IO[bytes] = os.fdopen(child.stdin_fd, "wb", buffering=0)
        self.stdout: IO[bytes] = os.fdopen(child.stdout_fd, "rb", buffering=0)
        self.stderr: IO[bytes] = os.fdopen(child.stderr_fd, "rb", buffering=0)
        self._exit: ExitStatus | None = None
        self._returncode: int | None = None
        self._kill_requested = False
        self._closed = False

    @property
    def pid(self) -> int:
        """The host pid of the agent process."""
        return self._child.host_pid

    @property
    def zygote(self) -> Zygote:
        return self._zygote

    def poll(self) -> int | None:
        if self._exit is None and not self._closed:
            self._check(0.0)
        return self._returncode

    def exit_status(self) -> ExitStatus | None:
        self.poll()
        return self._exit

    def exit_reason(self) -> str:
        status = self.exit_status()
        return "still running" if status is None else status.reason()

    def close(self) -> None:
        """Kill it and all it started, reap it, remove its cgroup, give the zygote back."""
        if self._closed:
            return
        reported = True
        emptied = False
        try:
            if self.poll() is None:
                self._kill_requested = True
                # Straight at the process first: its report then comes without the cgroup
                # sweep's polling delay. The sweep still follows, for what it started.
                with contextlib.suppress(OSError):
                    signal.pidfd_send_signal(self._child.pidfd, signal.SIGKILL)
                self._check(EXIT_REPORT_TIMEOUT)
            emptied = self._cgroup.kill_all()
            if self._exit is None:
                self._check(EXIT_REPORT_TIMEOUT)
            if self._exit is None:
                # Its zygote is stuck or gone; the process itself is dead (its cgroup is empty).
                reported = False
                self._settle(None, signal.SIGKILL)
        finally:
            self._closed = True
            self._finish(healthy=emptied and reported)

    def _finish(self, *, healthy: bool) -> None:
        for pipe in (self.stdin, self.stdout, self.stderr):
            with contextlib.suppress(OSError):
                pipe.close()
        with contextlib.suppress(OSError):
            os.close(self._child.pidfd)
        try:
            self._cgroup.remove()
        except CgroupError as exc:
            self._release(self._zygote, False)
            raise SandboxError(f"a forked agent's cgroup was left behind: {exc}") from exc
        self._release(self._zygote, healthy)

    def _check(self, timeout: float) -> None:
        status = self._zygote.exit_status(self._child.sandbox_pid, timeout)
        if status is not None:
            if os.WIFSIGNALED(status):
                self._settle(None, os.WTERMSIG(status))
            else:
                self._settle(os.waitstatus_to_exitcode(status), None)
        elif self._zygote.channel.gone and _has_ended(self._child.pidfd):
            # The zygote is the sandbox's pid 1: when it dies the kernel kills the rest.
            self._settle(None, signal.SIGKILL)

    def _settle(self, code: int | None, signum: int | None) -> None:
        """Record how it ended while its cgroup (and the OOM counter) still exists."""
        killed = signum == signal.SIGKILL
        out_of_memory = self._cgroup.oom_killed()
        deadline = time.monotonic() + _OOM_SETTLE
        while killed and not self._kill_requested and not out_of_memory:
            if time.monotonic() >= deadline:
                break
            time.sleep(0.01)
            out_of_memory = self._cgroup.oom_killed()
        self._exit = ExitStatus(
            code=code,
            signal=signum,
            out_of_memory=out_of_memory,
            stopped_by_host=self._kill_requested and killed,
            memory_limit_bytes=self._limits.memory_bytes,
            process_limit_hit=self._cgroup.process_limit_hit(),
        )
        self._returncode = code if code is not None else -(signum or 0)


def _has_ended(pidfd: int) -> bool:
    """A pidfd turns readable when its process has exited."""
    readable, _, _ = select.select([pidfd], [], [], 0)
    return bool(readable)
