"""Tries every call the sandbox's syscall filter denies, each in a child process of its own,
and some ordinary ones; standard library only, so that it runs anywhere: as a sandboxed
program, as an agent, as build code.

Not imported by the tests: :func:`support.syscalls.probe_source` sends its text, with this
machine's syscall numbers filled into ``NR``, to wherever the probe runs.
"""

import ctypes
import json
import mmap
import os
import platform
import socket
import struct
import subprocess
import sys
import threading
import time
from pathlib import Path

NR: dict[str, int] = {}  # syscall name -> number, filled in by probe_source()
MACHINE = platform.machine()

_libc = ctypes.CDLL(None, use_errno=True)
_libc.syscall.restype = ctypes.c_long
AT_FDCWD = -100
SIGCHLD = 17
CLONE_NEWNS, CLONE_NEWUSER, CLONE_NEWNET = 0x20000, 0x10000000, 0x40000000


def _arg(value):
    if value is None or isinstance(value, int):
        return ctypes.c_long(value or 0)
    return value


def _call(name, *args):
    result = _libc.syscall(ctypes.c_long(NR[name]), *[_arg(a) for a in args])
    return -ctypes.get_errno() if result == -1 else result


def _buffer(size, *fields):
    """A zeroed buffer with (offset, struct format, value) fields written in."""
    buffer = ctypes.create_string_buffer(size)
    for offset, fmt, value in fields:
        struct.pack_into(fmt, buffer, offset, value)
    return buffer


def _clone(flags):
    # A raw clone without CLONE_VM is a fork: the child returns 0 and leaves at once.
    pid = _call("clone", flags | SIGCHLD, 0, 0, 0, 0)
    if pid == 0:
        os._exit(0)
    if pid > 0:
        os.waitpid(pid, 0)
    return pid


def _clone3():
    arguments = _buffer(64, (32, "Q", SIGCHLD))  # exit_signal
    pid = _call("clone3", arguments, 64)
    if pid == 0:
        os._exit(0)
    if pid > 0:
        os.waitpid(pid, 0)
    return pid


def _setns():
    fd = os.open("/proc/self/ns/net", os.O_RDONLY)
    return _call("setns", fd, 0)


def _process_vm_readv():
    source, target = ctypes.create_string_buffer(8), ctypes.create_string_buffer(8)
    local = _buffer(16, (0, "Q", ctypes.addressof(target)), (8, "Q", 8))
    remote = _buffer(16, (0, "Q", ctypes.addressof(source)), (8, "Q", 8))
    return _call("process_vm_readv", os.getpid(), local, 1, remote, 1, 0)


def _pidfd_getfd():
    pidfd = _call("pidfd_open", os.getpid(), 0)
    return _call("pidfd_getfd", pidfd, 0, 0)


def _bpf():
    # BPF_MAP_CREATE of a one-entry array map.
    attributes = _buffer(72, (0, "I", 2), (4, "I", 4), (8, "I", 4), (12, "I", 1))
    return _call("bpf", 0, attributes, 72)


def _perf_event_open():
    # A software task clock of itself only: what perf_event_paranoid 2 still allows.
    flags = 1 | 1 << 5 | 1 << 6  # disabled, exclude_kernel, exclude_hv
    attributes = _buffer(128, (0, "I", 1), (4, "I", 128), (8, "Q", 1), (40, "Q", flags))
    return _call("perf_event_open", attributes, 0, -1, -1, 0)


def _clock_settime():
    now = _buffer(16, (0, "q", int(time.time())))
    return _call("clock_settime", 0, now)


def _x32_abi():
    # getpid by its x32 number: the x86-64 number with the x32 bit set.
    result = _libc.syscall(ctypes.c_long(0x40000000 | NR["getpid"]))
    return -ctypes.get_errno() if result == -1 else result


def _i386_abi():
    # mov eax, 20 (getpid in the 32-bit table); int 0x80; ret
    code = bytes([0xB8, 20, 0, 0, 0, 0xCD, 0x80, 0xC3])
    page = mmap.mmap(-1, mmap.PAGESIZE, prot=mmap.PROT_READ | mmap.PROT_WRITE | mmap.PROT_EXEC)
    page.write(code)
    function = ctypes.CFUNCTYPE(ctypes.c_int)(ctypes.addressof(ctypes.c_char.from_buffer(page)))
    return function()


ATTEMPTS = {
    "keyctl": lambda: _call("keyctl", 0, -3, 1),  # KEYCTL_GET_KEYRING_ID of the session's
    "add_key": lambda: _call("add_key", b"user", b"probe", b"x", 1, -2),
    "request_key": lambda: _call("request_key", b"user", b"probe-absent", None, 0),
    "ptrace_traceme": lambda: _call("ptrace", 0, 0, 0, 0),
    "process_vm_readv": _process_vm_readv,
    "kcmp": lambda: _call("kcmp", os.getpid(), os.getpid(), 1, 0, 0),
    "pidfd_getfd": _pidfd_getfd,
    "bpf": _bpf,
    "perf_event_open": _perf_event_open,
    "userfaultfd": lambda: _call("userfaultfd", 1),  # UFFD_USER_MODE_ONLY
    "io_uring_setup": lambda: _call("io_uring_setup", 1, _buffer(120)),
    "kexec_load": lambda: _call("kexec_load", 0, 0, None, 0),
    "kexec_file_load": lambda: _call("kexec_file_load", -1, -1, 0, None, 4),
    "init_module": lambda: _call("init_module", None, 0, b""),
    "finit_module": lambda: _call("finit_module", -1, b"", 0),
    "delete_module": lambda: _call("delete_module", b"probe", 0),
    "reboot": lambda: _call("reboot", 0, 0, 0, None),  # no valid magic: never a reboot
    "open_by_handle_at": lambda: _call("open_by_handle_at", AT_FDCWD, _buffer(16), 0),
    "name_to_handle_at": lambda: _call(
        "name_to_handle_at", AT_FDCWD, b"/", _buffer(136, (0, "I", 128)), _buffer(4), 0
    ),
    "mount": lambda: _call("mount", b"none", b"/tmp", b"tmpfs", 0, None),
    "umount2": lambda: _call("umount2", b"/tmp", 0),
    "pivot_root": lambda: _call("pivot_root", b"/tmp", b"/tmp"),
    "chroot": lambda: _call("chroot", b"/tmp"),
    "fsopen": lambda: _call("fsopen", b"tmpfs", 0),
    "open_tree": lambda: _call("open_tree", AT_FDCWD, b"/tmp", 1),  # OPEN_TREE_CLONE
    "unshare_user": lambda: _call("unshare", CLONE_NEWUSER),
    "unshare_net": lambda: _call("unshare", CLONE_NEWNET),
    "unshare_mount": lambda: _call("unshare", CLONE_NEWNS),
    "setns": _setns,
    "clone_newns": lambda: _clone(CLONE_NEWNS),
    "clone_newuser": lambda: _clone(CLONE_NEWUSER),
    "clone_newnet": lambda: _clone(CLONE_NEWNET),
    "clone3": _clone3,
    "swapon": lambda: _call("swapon", b"/tmp/swap", 0),
    "swapoff": lambda: _call("swapoff", b"/tmp/swap"),
    "acct": lambda: _call("acct", None),
    "settimeofday": lambda: _call("settimeofday", None, None),
    "clock_settime": _clock_settime,
    "adjtimex": lambda: _call("adjtimex", _buffer(208)),  # modes 0: only reads the clock
    "clock_adjtime": lambda: _call("clock_adjtime", 0, _buffer(208)),
    "iopl": lambda: _call("iopl", 3),
    "ioperm": lambda: _call("ioperm", 0x80, 1, 1),
    "syslog": lambda: _call("syslog", 10, None, 0),  # SYSLOG_ACTION_SIZE_BUFFER
    "quotactl": lambda: _call("quotactl", 0, None, 0, None),
    "vhangup": lambda: _call("vhangup"),
    "sethostname": lambda: _call("sethostname", b"probe", 5),
    "get_mempolicy": lambda: _call("get_mempolicy", None, None, 0, 0, 0),
    "alg": lambda: _call("socket", 38, 5, 0),  # AF_ALG, SOCK_SEQPACKET
    "vsock": lambda: _call("socket", 40, 1, 0),  # AF_VSOCK, SOCK_STREAM
    # The same family with the register's upper half set, which the kernel ignores.
    "vsock_upper_bits": lambda: _call("socket", (1 << 32) | 40, 1, 0),
}
if MACHINE == "x86_64":
    ATTEMPTS["x32_abi"] = _x32_abi
    ATTEMPTS["i386_abi"] = _i386_abi


def _in_child(attempt):
    """Run one attempt in a child process: its errno (0: it worked) or the signal it died of."""
    read_end, write_end = os.pipe()
    pid = os.fork()
    if pid == 0:
        os.close(read_end)
        try:
            result = attempt()
            outcome = -result if result < 0 else 0
        except Exception as exc:
            outcome = f"raised {exc!r}"
        os.write(write_end, json.dumps(outcome).encode())
        os._exit(0)
    os.close(write_end)
    with os.fdopen(read_end, "rb") as reader:
        data = reader.read()
    _, status = os.waitpid(pid, 0)
    if os.WIFSIGNALED(status):
        return f"signal {os.WTERMSIG(status)}"
    return json.loads(data)


def probe_syscalls():
    needed = {
        "ptrace_traceme": "ptrace",
        "unshare_user": "unshare",
        "unshare_net": "unshare",
        "unshare_mount": "unshare",
        "clone_newns": "clone",
        "clone_newuser": "clone",
        "clone_newnet": "clone",
        "alg": "socket",
        "vsock": "socket",
        "vsock_upper_bits": "socket",
        "x32_abi": "getpid",
        "i386_abi": "getpid",
    }
    return {
        label: _in_child(attempt)
        for label, attempt in ATTEMPTS.items()
        if needed.get(label, label) in NR
    }


def _fork():
    pid = os.fork()
    if pid == 0:
        os._exit(0)
    return os.waitpid(pid, 0)


def _seccomp_mode():
    """2 under a seccomp filter, 0 without one."""
    with open("/proc/self/status") as status:
        return next(line.split()[1] for line in status if line.startswith("Seccomp:"))


SUBPROCESS = [
    sys.executable,
    "-c",
    "print(next(l.split()[1] for l in open('/proc/self/status') if l.startswith('Seccomp:')))",
]


def _thread():
    thread = threading.Thread(target=len, args=("x",))
    thread.start()
    thread.join()


def _ordinary():
    yield "fork", _fork
    yield "thread", _thread
    yield "subprocess", lambda: subprocess.run(SUBPROCESS, capture_output=True, check=True)
    yield "read_file", lambda: Path(sys.executable).read_bytes()
    yield "write_tmp", lambda: Path("/tmp/probe-file").write_text("x")
    yield "time", lambda: (time.time(), time.monotonic(), time.sleep(0.001))
    yield "socketpair", lambda: [end.close() for end in socket.socketpair()]


def ordinary_calls():
    """Each ordinary call: "ok" or its error; and the seccomp mode of this process and of a
    program it starts."""
    found = {}
    for label, action in _ordinary():
        try:
            action()
        except Exception as exc:
            found[label] = f"failed: {exc!r}"
        else:
            found[label] = "ok"
    found["seccomp_mode"] = _seccomp_mode()
    child = subprocess.run(SUBPROCESS, capture_output=True, text=True)
    found["subprocess_seccomp_mode"] = child.stdout.strip() or child.stderr[-200:]
    return found
