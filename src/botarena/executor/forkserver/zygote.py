"""One fork server on the host's side: its sandbox, its control socket, and its children.

A zygote is started like an agent (same sandbox, same limits, its own cgroup) but runs
``python -m botarena.sdk.zygote`` as the sandbox's pid 1. :meth:`Zygote.fork` gets a new agent
process from it and finds that process's host pid: the one process in the zygote's cgroup that
is neither bubblewrap nor the zygote, checked against the pid the zygote reports.
"""

from __future__ import annotations

import contextlib
import os
import secrets
import time
from collections.abc import Hashable
from dataclasses import dataclass, replace
from pathlib import Path

from botarena.executor.forkserver.control import ControlChannel, ZygoteGone, control_pair
from botarena.executor.sandbox import (
    CgroupDriver,
    Limits,
    SandboxedProcess,
    SandboxError,
    SandboxSpec,
    spawn,
)
from botarena.executor.sandbox.cgroup_base import SUPERVISORS, Cgroup

SHIM_MODULE = "botarena.sdk"
ZYGOTE_MODULE = "botarena.sdk.zygote"
_STDERR_TAIL = 2000


@dataclass
class ForkedChild:
    """A process the zygote forked: its pids, a pidfd on it, and the host's ends of its pipes."""

    sandbox_pid: int
    host_pid: int
    pidfd: int
    stdin_fd: int
    stdout_fd: int
    stderr_fd: int

    def close_fds(self) -> None:
        for fd in (self.pidfd, self.stdin_fd, self.stdout_fd, self.stderr_fd):
            with contextlib.suppress(OSError):
                os.close(fd)


class Zygote:
    """A running fork server; one child at a time, see :class:`~.pool.ZygotePool`."""

    def __init__(
        self, key: Hashable, process: SandboxedProcess, channel: ControlChannel, shim: list[str]
    ) -> None:
        if process.cgroup is None:
            raise ValueError("a zygote runs in a cgroup of its own")
        self.key = key
        self.process = process
        self.cgroup: Cgroup = process.cgroup
        self.channel = channel
        self.shim_argv = shim
        self.own_pids: set[int] = set()
        self.broken = False
        self._exits: dict[int, int] = {}

    @classmethod
    def start(
        cls,
        key: Hashable,
        spec: SandboxSpec,
        limits: Limits,
        driver: CgroupDriver,
        *,
        timeout: float,
    ) -> Zygote:
        """Start a zygote for the agent ``spec`` runs; raises :class:`SandboxError`."""
        host_end, zygote_end = control_pair()
        try:
            zygote_spec, shim = zygote_spec_for(spec, zygote_end.fileno())
            name = f"zygote-{secrets.token_hex(6)}"
            process = spawn(
                zygote_spec, limits, name=name, driver=driver, pass_fds=(zygote_end.fileno(),)
            )
        except BaseException:
            host_end.close()
            raise
        finally:
            zygote_end.close()
        zygote = cls(key, process, ControlChannel(host_end), shim)
        try:
            zygote._wait_ready(timeout)
        except BaseException:
            zygote.stop()
            raise
        return zygote

    @property
    def usable(self) -> bool:
        """Worth asking for another child: not known to be broken, and still running."""
        return not self.broken and not self.channel.gone and self.process.poll() is None

    def fork(self, timeout: float) -> ForkedChild:
        """A new agent process, blocked reading its stdin; raises :class:`SandboxError`."""
        stdin_read, stdin_write = os.pipe()
        stdout_read, stdout_write = os.pipe()
        stderr_read, stderr_write = os.pipe()
        child_ends = [stdin_read, stdout_write, stderr_write]
        host_ends = [stdin_write, stdout_read, stderr_read]
        try:
            self.channel.send({"fork": self.shim_argv}, child_ends)
            for fd in child_ends:
                os.close(fd)
            child_ends = []
            reply = self._reply(timeout)
            sandbox_pid = reply.get("forked")
            if not isinstance(sandbox_pid, int):
                raise SandboxError(f"the fork server refused: {reply.get('error', reply)}")
            host_pid, pidfd = self._host_pid_of(sandbox_pid)
        except BaseException:
            self.broken = True
            for fd in child_ends + host_ends:
                os.close(fd)
            raise
        return ForkedChild(sandbox_pid, host_pid, pidfd, *host_ends)

    def exit_status(self, sandbox_pid: int, timeout: float = 0.0) -> int | None:
        """The raw wait status the zygote reported for its child, once it did."""
        deadline = time.monotonic() + timeout
        while sandbox_pid not in self._exits:
            try:
                message = self.channel.receive(max(0.0, deadline - time.monotonic()))
            except ZygoteGone:
                return None
            if message is None:
                return None
            self._note(message)
        return self._exits.pop(sandbox_pid)

    def stop(self) -> None:
        """End the zygote and its sandbox and remove its cgroup; raises :class:`SandboxError`
        only if something could not be cleaned up."""
        self.broken = True
        self.channel.close()
        self.process.close()

    def stderr_tail(self) -> str:
        """What the zygote wrote to its stderr so far (a traceback when it failed to start)."""
        fd = self.process.stderr.fileno()
        os.set_blocking(fd, False)
        try:
            data = os.read(fd, 65536)
        except OSError:
            return ""
        return data.decode(errors="replace").strip()[-_STDERR_TAIL:]

    def _wait_ready(self, timeout: float) -> None:
        try:
            message = self.channel.receive(timeout)
        except ZygoteGone:
            message = {}
        if message is None or "ready" not in message:
            self.broken = True
            why = "did not start" if message is None else "ended before it was ready"
            detail = self.stderr_tail() or self.process.exit_reason()
            raise SandboxError(f"the agent's fork server {why} within {timeout:g} s: {detail}")
        # Nothing but bubblewrap and the zygote runs in its cgroup yet.
        self.own_pids = self.cgroup.pids()

    def _reply(self, timeout: float) -> dict[str, object]:
        deadline = time.monotonic() + timeout
        while True:
            message = self.channel.receive(max(0.0, deadline - time.monotonic()))
            if message is None:
                raise SandboxError(f"the fork server did not answer within {timeout:g} s")
            if "exited" not in message:
                return message
            self._note(message)

    def _note(self, message: dict[str, object]) -> None:
        pid, status = message.get("exited"), message.get("status")
        if isinstance(pid, int) and isinstance(status, int):
            self._exits[pid] = status

    def _host_pid_of(self, sandbox_pid: int) -> tuple[int, int]:
        """The child's host pid, with a pidfd that pins it; checked by its pid inside."""
        new = self.cgroup.pids() - self.own_pids
        if len(new) != 1:
            raise SandboxError(f"expected one new process in the fork server's cgroup, not {new}")
        host_pid = new.pop()
        pidfd = os.pidfd_open(host_pid)
        try:
            # Held by the pidfd now, the number cannot be reused: check it is still ours.
            if sandbox_pid_of(host_pid) != sandbox_pid or host_pid not in self.cgroup.pids():
                raise SandboxError(f"process {host_pid} is not the fork server's new child")
        except BaseException:
            os.close(pidfd)
            raise
        return host_pid, pidfd


def zygote_spec_for(spec: SandboxSpec, control_fd: int) -> tuple[SandboxSpec, list[str]]:
    """The zygote's spec for an agent's shim spec, and the arguments its children get."""
    python, *rest = spec.command
    if rest[:2] != ["-m", SHIM_MODULE]:
        raise ValueError(f"only the agent shim can be forked, not {spec.command}")
    command = [python, "-m", ZYGOTE_MODULE, "--control-fd", str(control_fd)]
    return replace(spec, command=command, pid_1=True, mqueue=True), rest[2:]


def sandbox_pid_of(host_pid: int) -> int | None:
    """The pid a process has in its innermost pid namespace, from ``/proc``."""
    try:
        status = Path(f"/proc/{host_pid}/status").read_text(encoding="ascii")
    except OSError:
        return None
    for line in status.splitlines():
        if line.startswith("NSpid:"):
            return int(line.split()[-1])
    return None


def match_limits(limits: Limits) -> Limits:
    """A forked agent's cgroup holds no supervisors of the sandbox: the agent alone gets
    ``limits.pids`` tasks, as it does with a sandbox of its own."""
    return replace(limits, pids=max(1, limits.pids - SUPERVISORS))
