"""The syscall filter of every sandbox: a seccomp deny list, compiled by libseccomp and
installed by bubblewrap (``--seccomp FD``) just before it runs the program.

Namespaces, uid 65534 and no capabilities already make most of these calls fail; the filter
takes them away from the kernel's reach altogether, so that a bug behind a capability check
(or a call that needs none) cannot be used. Everything else is allowed. The list covers what
Docker's default profile denies an unprivileged process (but ``personality``, see below),
and more; denied calls fail with ``EPERM``, as there. The groups of :data:`DENIED`, and why:

- *other processes*: ``ptrace`` (``PTRACE_TRACEME`` too), reading or writing another
  process's memory or descriptors. An agent has nobody to debug, and tracing has been the
  way into many kernel bugs. (Docker allows ``ptrace`` and ``process_vm_*`` on kernels
  since 4.8, the others only with ``CAP_SYS_PTRACE``.)
- *kernel keyrings*: keys are not namespaced. Every sandbox runs as the same uid, so one
  agent's process would find a key another left behind.
- *kernel programming and tracing*: eBPF, ``perf_event_open``, ``userfaultfd`` (a classic
  aid for winning kernel races) and io_uring, among the largest sources of kernel exploits
  in recent years; Docker denies io_uring since version 25.
- *kernel code and power*: loading modules, ``kexec``, ``reboot``.
- *mounts and namespaces*: the file system stays as bubblewrap made it, and no new
  namespace can be made or joined, where an unprivileged process would hold capabilities
  (bubblewrap's ``--disable-userns`` stops user namespaces; this stops every kind). ``clone``
  with any namespace flag is refused too, and ``clone3`` (whose flags live in memory the
  filter cannot read) fails with ``ENOSYS``, so that the C library falls back to ``clone``.
- *file handles*: ``open_by_handle_at`` opens files by inode, past every mount (a known
  container escape); ``name_to_handle_at`` makes the handles.
- *clocks*: the clock is the host's and the referee's. ``adjtimex`` and ``clock_adjtime``
  only read when asked to, but the request is in memory the filter cannot read.
- *host administration*: swap, process accounting, the kernel log, quotas, port I/O,
  terminals, host and domain names, whole-filesystem notification, obsolete calls.
- *memory policy*: NUMA placement is the host's business (Docker: ``CAP_SYS_NICE`` only).

Besides, ``socket`` refuses two address families: ``AF_ALG``, the kernel's crypto API (a
large attack surface with a record of kernel bugs, and of no use to an agent or a build), and
``AF_VSOCK``, which the network namespace does not confine: on a virtual machine it reaches
the hypervisor's host. Only the native ABI passes: a call through the 32-bit or x32 entry
points kills the process, which also closes the 32-bit ``socketcall``, whose arguments a
filter cannot read.

Not denied: ``personality`` (Docker allows only a few values; the others only change how the
caller's own programs are laid out, and a default-allow filter would need dozens of rules to
spell "every other value"), and calls newer than this machine's libseccomp, which the
kernel's own capability checks still guard.
"""

from __future__ import annotations

import errno
import functools
import importlib
import tempfile
from typing import Any

from botarena.executor.sandbox.errors import SandboxUnavailable

__all__ = ["CLONE_NAMESPACE_FLAGS", "DENIED", "syscall_filter"]

DENIED: dict[str, tuple[str, ...]] = {
    "other processes": (
        "ptrace",
        "process_vm_readv",
        "process_vm_writev",
        "process_madvise",
        "kcmp",
        "pidfd_getfd",
    ),
    "kernel keyrings": ("keyctl", "add_key", "request_key"),
    "kernel programming and tracing": (
        "bpf",
        "perf_event_open",
        "userfaultfd",
        "io_uring_setup",
        "io_uring_enter",
        "io_uring_register",
        "lookup_dcookie",
    ),
    "kernel code and power": (
        "init_module",
        "finit_module",
        "delete_module",
        "create_module",
        "query_module",
        "get_kernel_syms",
        "kexec_load",
        "kexec_file_load",
        "reboot",
    ),
    "mounts and namespaces": (
        "mount",
        "umount",
        "umount2",
        "pivot_root",
        "chroot",
        "move_mount",
        "open_tree",
        "fsopen",
        "fsmount",
        "fsconfig",
        "fspick",
        "mount_setattr",
        "unshare",
        "setns",
    ),
    "file handles": ("open_by_handle_at", "name_to_handle_at"),
    "clocks": ("settimeofday", "stime", "clock_settime", "clock_adjtime", "adjtimex"),
    "host administration": (
        "swapon",
        "swapoff",
        "acct",
        "syslog",
        "quotactl",
        "quotactl_fd",
        "iopl",
        "ioperm",
        "vhangup",
        "sethostname",
        "setdomainname",
        "fanotify_init",
        "nfsservctl",
        "uselib",
        "ustat",
        "sysfs",
        "_sysctl",
    ),
    "memory policy": (
        "mbind",
        "set_mempolicy",
        "get_mempolicy",
        "set_mempolicy_home_node",
        "migrate_pages",
        "move_pages",
    ),
}

CLONE_NEWNS = 0x00020000
CLONE_NEWCGROUP = 0x02000000
CLONE_NEWUTS = 0x04000000
CLONE_NEWIPC = 0x08000000
CLONE_NEWUSER = 0x10000000
CLONE_NEWPID = 0x20000000
CLONE_NEWNET = 0x40000000
CLONE_NAMESPACE_FLAGS = (
    CLONE_NEWNS,
    CLONE_NEWCGROUP,
    CLONE_NEWUTS,
    CLONE_NEWIPC,
    CLONE_NEWUSER,
    CLONE_NEWPID,
    CLONE_NEWNET,
)
AF_ALG = 38
AF_VSOCK = 40
# An int argument arrives in a 64-bit register whose upper half the kernel ignores: compare
# only the lower half, or a caller could set the upper one to slip past.
_LOWER_32_BITS = 0xFFFFFFFF


@functools.cache
def syscall_filter() -> bytes:
    """The filter as a seccomp BPF program for this machine's ABI, compiled once per process.

    Raises :class:`SandboxUnavailable` when libseccomp cannot be loaded: no sandbox starts
    without its filter.
    """
    seccomp = _libseccomp()
    eperm = seccomp.ERRNO(errno.EPERM)
    rules = seccomp.SyscallFilter(defaction=seccomp.ALLOW)
    # The filter holds the native architecture only; any other (i386's int 0x80, x32's
    # numbers) takes this action instead of the rules.
    rules.set_attr(seccomp.Attr.ACT_BADARCH, seccomp.KILL_PROCESS)
    for names in DENIED.values():
        for name in names:
            # A negative number: no such call on this architecture (or this libseccomp).
            if seccomp.resolve_syscall(seccomp.Arch.NATIVE, name) >= 0:
                rules.add_rule(eperm, name)
    flags_argument = 1 if _is_s390(seccomp) else 0  # s390 passes clone's stack first
    for flag in CLONE_NAMESPACE_FLAGS:
        rules.add_rule(eperm, "clone", seccomp.Arg(flags_argument, seccomp.MASKED_EQ, flag, flag))
    rules.add_rule(seccomp.ERRNO(errno.ENOSYS), "clone3")
    for family in (AF_ALG, AF_VSOCK):
        rules.add_rule(eperm, "socket", seccomp.Arg(0, seccomp.MASKED_EQ, _LOWER_32_BITS, family))
    with tempfile.TemporaryFile() as program:
        rules.export_bpf(program)
        program.seek(0)
        return program.read()


def _libseccomp() -> Any:
    """The ``pyseccomp`` binding (it ships no type information), loaded on first use."""
    try:
        return importlib.import_module("pyseccomp")
    except (ImportError, RuntimeError, OSError) as exc:
        raise SandboxUnavailable(
            f"the sandbox's syscall filter needs libseccomp, which cannot be loaded ({exc}): "
            "install the libseccomp2 package (sudo apt-get install libseccomp2)"
        ) from exc


def _is_s390(seccomp: Any) -> bool:
    return bool(seccomp.system_arch() in (seccomp.Arch.S390, seccomp.Arch.S390X))
