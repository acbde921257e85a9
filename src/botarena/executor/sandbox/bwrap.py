"""The bubblewrap command line that runs one agent program isolated from the host.

The sandbox unshares every namespace (so no network but a loopback interface of its own,
its own pid numbers, hostname and IPC; an install of requirements reaches the package index
through a proxy's Unix socket bound in, never through the host's network), runs the program
as uid/gid 65534 with every capability dropped and no way to make further user namespaces,
under the syscall filter of :mod:`.seccomp`, which bubblewrap installs just before it runs
the program. It sees the system's runtime folders and the folders of the
:class:`SandboxSpec`, read-only, and a private size-capped ``/tmp`` (``/dev/shm`` is capped
alike); everything else, its root and ``/dev`` included, is read-only. bubblewrap stays as
the sandbox's pid 1, reaping orphans, and the whole sandbox dies when its first program ends
or when our process dies.

As root, uid 65534 inside maps to root outside: for files in a bound folder the agent is the
owner of whatever root owns. So bind nothing that only root should read.
"""

from __future__ import annotations

import shutil
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from botarena.executor.sandbox.limits import Limits
from botarena.executor.sandbox.runtime import python_runtime_binds, real_python, system_mounts

__all__ = [
    "SANDBOX_GID",
    "SANDBOX_UID",
    "SandboxSpec",
    "bwrap_argv",
    "default_env",
    "find_bwrap",
    "identity_files",
    "python_runtime_binds",
    "real_python",
]

SANDBOX_UID = 65534
SANDBOX_GID = 65534
SANDBOX_USER = "agent"
HOSTNAME = "sandbox"
# The sandbox's own private tmpfs mounts, never the host's folders.
SANDBOX_TMP = "/tmp"  # noqa: S108 - a path inside the sandbox
SHARED_MEMORY = "/dev/shm"  # noqa: S108 - a path inside the sandbox
MESSAGE_QUEUES = "/dev/mqueue"


def default_env() -> dict[str, str]:
    return {"PATH": "/usr/local/bin:/usr/bin:/bin", "HOME": SANDBOX_TMP, "LANG": "C.UTF-8"}


@dataclass
class SandboxSpec:
    """What to run inside the sandbox and which host folders it sees (read-only).

    ``command`` and ``cwd`` use sandbox paths. ``env`` is the whole environment inside.
    ``tmp_bytes``, when set, replaces :attr:`Limits.tmp_bytes` for the private ``/tmp``.
    ``pid_1`` runs the command itself as the sandbox's pid 1, without bubblewrap's init: the
    kernel then drops every signal sent to it from inside the sandbox that it has no handler
    for (SIGKILL included), and it must reap orphans itself. ``mqueue`` mounts the sandbox's
    POSIX message queues at ``/dev/mqueue``, so that they can be listed and removed.
    ``tmpfs_mounts`` are further private writable tmpfs mounts, ``(sandbox path, size in
    bytes)``; ``rw_binds`` are host folders the program may write to. ``syscall_filter``
    applies the seccomp filter of :mod:`.seccomp`; only a benchmark or a test that proves
    the filter works turns it off.
    """

    command: list[str]
    ro_binds: list[tuple[Path, str]] = field(default_factory=list)
    env: dict[str, str] = field(default_factory=default_env)
    cwd: str = "/"
    tmp_bytes: int | None = None
    pid_1: bool = False
    mqueue: bool = False
    tmpfs_mounts: list[tuple[str, int]] = field(default_factory=list)
    rw_binds: list[tuple[Path, str]] = field(default_factory=list)
    syscall_filter: bool = True


def find_bwrap() -> Path | None:
    found = shutil.which("bwrap")
    return None if found is None else Path(found)


def identity_files() -> dict[str, bytes]:
    """A minimal ``/etc/passwd`` and ``/etc/group`` naming the sandbox user, so that
    ``getpass.getuser()``, ``~`` and the like work instead of failing on an unknown uid."""
    passwd = f"{SANDBOX_USER}:x:{SANDBOX_UID}:{SANDBOX_GID}::{SANDBOX_TMP}:/nonexistent\n"
    group = f"{SANDBOX_USER}:x:{SANDBOX_GID}:\n"
    return {"/etc/passwd": passwd.encode(), "/etc/group": group.encode()}


def bwrap_argv(
    spec: SandboxSpec,
    limits: Limits,
    *,
    bwrap: Path | None = None,
    status_fd: int | None = None,
    data_fds: Sequence[tuple[int, str]] = (),
    seccomp_fd: int | None = None,
) -> list[str]:
    """The full command line, bubblewrap's path first.

    ``status_fd`` receives bubblewrap's JSON status (an ``exit-code`` record tells that the
    program really ran); ``data_fds`` are ``(readable fd, sandbox path)`` pairs whose contents
    become read-only files, see :func:`identity_files`; ``seccomp_fd`` holds the compiled
    syscall filter (:func:`~.seccomp.syscall_filter`), which bubblewrap reads and installs
    once the sandbox is made, just before running the program. Every fd must be passed to
    the child.
    """
    check_spec(spec)
    program = bwrap or find_bwrap() or Path("bwrap")
    argv = [str(program), *_isolation_options()]
    if spec.pid_1:
        argv.append("--as-pid-1")
    if status_fd is not None:
        argv += ["--json-status-fd", str(status_fd)]
    if seccomp_fd is not None:
        argv += ["--seccomp", str(seccomp_fd)]
    for kind, source, target in system_mounts():
        argv += ["--symlink" if kind == "symlink" else "--ro-bind", source, target]
    tmp_bytes = str(limits.tmp_bytes if spec.tmp_bytes is None else spec.tmp_bytes)
    argv += ["--proc", "/proc", "--dev", "/dev", "--size", tmp_bytes, "--tmpfs", SANDBOX_TMP]
    # POSIX shared memory and semaphores (Python's multiprocessing locks) live in /dev/shm.
    argv += ["--size", tmp_bytes, "--tmpfs", SHARED_MEMORY]
    if spec.mqueue:
        # Its own mount, so it stays writable after /dev is made read-only below.
        argv += ["--mqueue", MESSAGE_QUEUES]
    for fd, target in data_fds:
        argv += ["--perms", "0444", "--ro-bind-data", str(fd), target]
    for host, inside in spec.ro_binds:
        argv += ["--ro-bind", str(host), inside]
    for inside, size in spec.tmpfs_mounts:
        argv += ["--size", str(size), "--tmpfs", inside]
    for host, inside in spec.rw_binds:
        argv += ["--bind", str(host), inside]
    # Last, once every mount point exists: nothing may be written outside /tmp and /dev/shm.
    # bubblewrap's /dev is an uncapped tmpfs; its device nodes are mounts of their own and
    # stay usable, since the remount does not recurse.
    argv += ["--remount-ro", "/dev", "--remount-ro", "/", "--chdir", spec.cwd]
    for name, value in spec.env.items():
        argv += ["--setenv", name, value]
    return [*argv, "--", *spec.command]


def _isolation_options() -> list[str]:
    return [
        "--unshare-all",
        "--unshare-user",
        "--unshare-cgroup",
        # Stops the agent making user namespaces of its own, where it would hold capabilities.
        "--disable-userns",
        "--uid",
        str(SANDBOX_UID),
        "--gid",
        str(SANDBOX_GID),
        # As root, bubblewrap would otherwise keep every capability for the program.
        "--cap-drop",
        "ALL",
        "--hostname",
        HOSTNAME,
        "--die-with-parent",
        # A new session: the program cannot push input into our terminal (TIOCSTI).
        "--new-session",
        "--clearenv",
    ]


def check_spec(spec: SandboxSpec) -> None:
    """Refuse a spec bubblewrap would choke on, with a clearer sentence than its own."""
    if not spec.command:
        raise ValueError("the sandbox needs a command to run")
    for source, target in [*spec.ro_binds, *spec.rw_binds]:
        if not target.startswith("/"):
            raise ValueError(f"sandbox path {target!r} must be absolute")
        if not source.exists():
            raise ValueError(f"cannot bind {source} into the sandbox: it does not exist")
    for target, size in spec.tmpfs_mounts:
        if not target.startswith("/") or size <= 0:
            raise ValueError(f"tmpfs {target!r} needs an absolute path and a positive size")
    if not spec.cwd.startswith("/"):
        raise ValueError(f"sandbox working folder {spec.cwd!r} must be absolute")
