"""Start an agent program: in a bubblewrap sandbox with cgroup limits, or (on a participant's
own laptop only) directly, with rlimits and its own session.

The child joins its cgroups and lowers its rlimits itself, between fork and exec, so the
limits hold from its first instruction.

bubblewrap's ``--die-with-parent`` follows the *thread* that forked it, not the process (that
is how the kernel's parent-death signal works): a sandbox forked from a short-lived worker
thread would be killed when that thread ends. So every sandbox is forked from one thread of
ours that lives as long as the process, whichever thread calls :func:`spawn`.
"""

from __future__ import annotations

import functools
import os
import subprocess
from collections.abc import Sequence
from concurrent.futures import Future, ThreadPoolExecutor

from botarena.executor.sandbox.bwrap import (
    SandboxSpec,
    bwrap_argv,
    check_spec,
    find_bwrap,
    identity_files,
)
from botarena.executor.sandbox.cgroup_base import Cgroup, CgroupDriver, discard
from botarena.executor.sandbox.errors import SandboxError, SandboxUnavailable
from botarena.executor.sandbox.limits import Limits
from botarena.executor.sandbox.rlimits import Plan, lower_rlimits, rlimit_plan
from botarena.executor.sandbox.sandboxed_process import SandboxedProcess
from botarena.executor.sandbox.seccomp import syscall_filter
from botarena.executor.sandbox.status_pipe import StatusPipe

__all__ = ["SandboxedProcess", "spawn", "spawn_unsandboxed"]

# The one long-lived thread that forks every sandbox (see above); its idle worker stays.
_FORKER = ThreadPoolExecutor(max_workers=1, thread_name_prefix="sandbox-forker")


def spawn(
    spec: SandboxSpec,
    limits: Limits,
    *,
    name: str,
    driver: CgroupDriver | None,
    pass_fds: Sequence[int] = (),
) -> SandboxedProcess:
    """Start ``spec.command`` in a fresh sandbox; ``name`` names its cgroup (unique per run).

    Raises :class:`SandboxUnavailable` without bubblewrap and :class:`SandboxError` when the
    sandbox cannot be made. Without a driver only the rlimits apply. ``pass_fds`` are
    inherited by the program at the same numbers (bubblewrap passes them on); the caller
    keeps, and closes, its own copies. The program runs under the syscall filter (see
    :mod:`.seccomp`) unless the spec turns it off, and so does every process it starts.
    """
    bwrap = find_bwrap()
    if bwrap is None:
        raise SandboxUnavailable(
            "bubblewrap (bwrap) is not installed, so agents cannot be sandboxed: "
            "install the bubblewrap package (sudo apt-get install bubblewrap)"
        )
    check_spec(spec)
    cgroup = None if driver is None else driver.create(name, limits)
    status = StatusPipe()
    data_fds: list[tuple[int, str]] = []
    filter_fds: list[int] = []
    try:
        for target, content in identity_files().items():
            data_fds.append((pipe_holding(content), target))
        if spec.syscall_filter:
            filter_fds.append(pipe_holding(syscall_filter()))
        argv = bwrap_argv(
            spec,
            limits,
            bwrap=bwrap,
            status_fd=status.write_fd,
            data_fds=data_fds,
            seccomp_fd=filter_fds[0] if filter_fds else None,
        )
        start = functools.partial(
            _start,
            argv,
            preexec=functools.partial(_enter_sandbox, _procs_files(cgroup), rlimit_plan(limits)),
            pass_fds=(status.write_fd, *(fd for fd, _ in data_fds), *filter_fds, *pass_fds),
            env={},
        )
        popen = _fork(start)
    except BaseException:
        status.close()
        if cgroup is not None:
            discard(cgroup)
        raise
    finally:
        status.close_write_end()
        for fd in [*(fd for fd, _ in data_fds), *filter_fds]:
            os.close(fd)
    return SandboxedProcess(popen, limits, cgroup=cgroup, status=status)


def spawn_unsandboxed(spec: SandboxSpec, limits: Limits) -> SandboxedProcess:
    """Run the same command directly, for a participant trying their own code on their laptop.

    There is no isolation at all: only rlimits, and a new session whose process group is
    killed on close (a child that starts its own session escapes that). Sandbox paths in the
    command and ``cwd`` are turned back into the host paths they are bound from.
    """
    check_spec(spec)
    command = [host_path(spec, argument) for argument in spec.command]
    return SandboxedProcess(
        _start(
            command,
            preexec=functools.partial(lower_rlimits, rlimit_plan(limits)),
            env=dict(spec.env),
            cwd=host_path(spec, spec.cwd),
            start_new_session=True,
        ),
        limits,
    )


def host_path(spec: SandboxSpec, path: str) -> str:
    """The host path behind a sandbox path, through the longest bind that covers it."""
    for source, target in sorted(spec.ro_binds, key=lambda bind: len(bind[1]), reverse=True):
        base = target.rstrip("/")
        if path == target or path.startswith(base + "/"):
            return str(source) + path[len(base) :]
    return path


def _start(
    argv: list[str],
    *,
    preexec: functools.partial[None],
    pass_fds: tuple[int, ...] = (),
    env: dict[str, str],
    cwd: str | None = None,
    start_new_session: bool = False,
) -> subprocess.Popen[bytes]:
    try:
        return subprocess.Popen(
            argv,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            bufsize=0,
            close_fds=True,
            pass_fds=pass_fds,
            env=env,
            cwd=cwd,
            start_new_session=start_new_session,
            preexec_fn=preexec,
        )
    except (OSError, subprocess.SubprocessError) as exc:
        raise SandboxError(f"could not start {argv[0]}: {exc}") from exc


def _fork(start: functools.partial[subprocess.Popen[bytes]]) -> subprocess.Popen[bytes]:
    future = _FORKER.submit(start)
    try:
        return future.result()
    except BaseException:
        # Interrupted while waiting (^C): the fork may still complete; leave nothing running.
        future.add_done_callback(_kill_if_started)
        raise


def _kill_if_started(future: Future[subprocess.Popen[bytes]]) -> None:
    if not future.cancelled() and future.exception() is None:
        popen = future.result()
        popen.kill()
        popen.wait()


def _enter_sandbox(procs_files: tuple[str, ...], plan: Plan) -> None:
    """Runs in the child before exec: join the cgroups, then lower the rlimits."""
    pid = str(os.getpid()).encode()
    for path in procs_files:
        fd = os.open(path, os.O_WRONLY)
        try:
            os.write(fd, pid)
        finally:
            os.close(fd)
    lower_rlimits(plan)


def _procs_files(cgroup: Cgroup | None) -> tuple[str, ...]:
    return () if cgroup is None else tuple(str(path) for path in cgroup.procs_files)


def pipe_holding(content: bytes) -> int:
    """A pipe's read end with ``content`` waiting in it (small: it must fit the pipe buffer)."""
    read_fd, write_fd = os.pipe()
    try:
        os.write(write_fd, content)
    finally:
        os.close(write_fd)
    return read_fd
