"""``python -m botarena.sdk.zygote``: a fork server that hands each match a fresh agent process.

It runs in an agent's sandbox as the sandbox's pid 1, with the interpreter and the shim already
loaded, but never the agent's code. On its control socket (a Unix SEQPACKET socket inherited
at ``--control-fd``) the host sends ``{"fork": [shim arguments]}`` with three descriptors
attached: the new agent's stdin, stdout and stderr. The zygote first wipes what the previous
agent process left in the sandbox (``/tmp``, ``/dev/shm``, IPC objects, keyrings), then forks
a child that runs the shim exactly as ``python -m botarena.sdk`` would, and answers
``{"forked": pid}`` (or ``{"error": sentence}``). The child blocks reading ``hello`` before
anything of the agent runs, which leaves the host time to move it into its match's cgroup.
When that child ends the zygote reports ``{"exited": pid, "status": raw wait status}``. On
end-of-file it exits, and the sandbox with it.

Being pid 1 shields the zygote from its children: the kernel drops the signals they send it
(it handles none but SIGCHLD), and it is not dumpable, so they cannot trace it either.
Standard library only, like the rest of the shim.
"""

from __future__ import annotations

import argparse
import atexit
import ctypes
import json
import os
import select
import signal
import socket
import stat
import sys
import traceback
from typing import Any, NoReturn

# Loaded once here and shared, copy-on-write, by every child: this is the start-up it saves.
from botarena.sdk import __main__ as shim

PR_SET_DUMPABLE = 4
IPC_RMID = 0
# keyctl(2) by its syscall number: the C library has no wrapper for it.
KEYCTL_SYSCALL = {"x86_64": 250, "aarch64": 219}
KEYCTL_JOIN_SESSION_KEYRING = 1
KEYCTL_CLEAR = 7
KEY_SPEC_USER_KEYRING = -4
KEY_SPEC_USER_SESSION_KEYRING = -5
# Where one agent process may leave something for the next: the sandbox's private tmpfs
# mounts and its message queues.
SCRATCH_FOLDERS = ("/tmp", "/dev/shm", "/dev/mqueue")  # noqa: S108 - paths inside the sandbox
SYSV_IPC = ("shm", "sem", "msg")
_MESSAGE_BYTES = 65536
_STREAMS = 3

_libc = ctypes.CDLL(None, use_errno=True)


def main(argv: list[str] | None = None) -> int:
    """Serve until the host hangs up (returns 0); a forked child never returns."""
    parser = argparse.ArgumentParser(prog="python -m botarena.sdk.zygote")
    parser.add_argument("--control-fd", type=int, required=True)
    args = parser.parse_args(argv)
    _libc.prctl(PR_SET_DUMPABLE, 0, 0, 0, 0)
    shim_argv = _Server(socket.socket(fileno=args.control_fd)).serve()
    if shim_argv is None:
        return 0
    # The forked child: from here on it is the shim, as a freshly started one would be.
    sys.argv = [shim.__file__ or "botarena.sdk", *shim_argv]
    try:
        code = shim.main(shim_argv)
    except SystemExit as exc:
        if exc.code is None or isinstance(exc.code, int):
            code = exc.code or 0
        else:
            print(exc.code, file=sys.stderr)
            code = 1
    except BaseException:
        traceback.print_exc()
        code = 1
    _exit(code)


def _exit(code: int) -> NoReturn:
    """End the child as an interpreter exit would, less the tearing down of every object.

    That teardown writes to nearly every page inherited from the zygote, copying each one:
    about 10 ms, most of what a short match costs. What a program can see of an exit stays:
    other threads are waited for, exit handlers run, buffered output is written.
    """
    if "threading" in sys.modules:
        import threading

        for thread in threading.enumerate():
            if thread is not threading.current_thread() and not thread.daemon:
                thread.join()
    atexit._run_exitfuncs()
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except (OSError, ValueError, AttributeError):
            continue
    os._exit(code)


class _Server:
    """The zygote's loop: answer fork requests, reap children, report the one it forked."""

    def __init__(self, control: socket.socket) -> None:
        self.control = control
        self.child: int | None = None
        self.wake_read, self.wake_write = os.pipe()
        os.set_blocking(self.wake_write, False)
        self.handlers = {
            number: signal.getsignal(number) for number in (signal.SIGCHLD, signal.SIGINT)
        }
        # Only SIGCHLD gets a handler: as pid 1, every other signal from inside is dropped.
        signal.signal(signal.SIGINT, signal.SIG_DFL)
        signal.signal(signal.SIGCHLD, _ignore)
        signal.set_wakeup_fd(self.wake_write, warn_on_full_buffer=False)

    def serve(self) -> list[str] | None:
        """Returns ``None`` when the host hangs up; in a forked child, the shim's arguments."""
        if not self.send({"ready": os.getpid()}):
            return None
        while True:
            readable, _, _ = select.select([self.control.fileno(), self.wake_read], [], [])
            if self.wake_read in readable:
                os.read(self.wake_read, 4096)
                if not self.reap():
                    return None
            if self.control.fileno() in readable:
                try:
                    data, fds, _, _ = socket.recv_fds(self.control, _MESSAGE_BYTES, _STREAMS)
                except OSError:
                    return None
                if not data:
                    return None
                shim_argv = self.fork(data, fds)
                if shim_argv is not None:
                    return shim_argv

    def fork(self, data: bytes, fds: list[int]) -> list[str] | None:
        problem = self.refusal(data, fds)
        if problem is None:
            try:
                wipe_sandbox()
            except (OSError, RecursionError) as exc:
                problem = f"cannot clear what the last agent process left: {exc}"
        if problem is not None:
            _close_all(fds)
            self.send({"error": problem})
            return None
        shim_argv = [str(word) for word in json.loads(data)["fork"]]
        pid = os.fork()
        if pid == 0:
            self.become_agent(fds)
            return shim_argv
        _close_all(fds)
        self.child = pid
        self.send({"forked": pid})
        return None

    def refusal(self, data: bytes, fds: list[int]) -> str | None:
        if self.child is not None:
            return "the previous agent process is still running"
        if len(fds) != _STREAMS:
            return f"a fork request carries {_STREAMS} descriptors, not {len(fds)}"
        try:
            request = json.loads(data)
        except ValueError:
            return "a fork request is JSON"
        if not isinstance(request, dict) or not isinstance(request.get("fork"), list):
            return 'a fork request is {"fork": [arguments]}'
        return None

    def become_agent(self, fds: list[int]) -> None:
        """In the child: nothing of the zygote's may stay reachable, nor act differently."""
        signal.set_wakeup_fd(-1)
        for number, handler in self.handlers.items():
            signal.signal(number, handler)
        signal.pthread_sigmask(signal.SIG_SETMASK, set())
        for target, fd in enumerate(fds):
            os.dup2(fd, target)
        self.control.close()
        os.close(self.wake_read)
        os.close(self.wake_write)
        _close_all(fds)
        # Anything else inherited, closed by number: the zygote holds no other descriptor
        # through an object that would close it again later.
        os.closerange(_STREAMS, _open_files_limit())
        # A fresh program is its own session leader and dumpable, with its own session keyring.
        os.setsid()
        _libc.prctl(PR_SET_DUMPABLE, 1, 0, 0, 0)
        _keyctl(KEYCTL_JOIN_SESSION_KEYRING, None)

    def reap(self) -> bool:
        """Reap every ended child (orphans come to pid 1 too); ``False`` if the host is gone."""
        while True:
            try:
                pid, status = os.waitpid(-1, os.WNOHANG)
            except ChildProcessError:
                return True
            if pid == 0:
                return True
            if pid == self.child:
                self.child = None
                if not self.send({"exited": pid, "status": status}):
                    return False

    def send(self, message: dict[str, Any]) -> bool:
        try:
            self.control.send(json.dumps(message).encode())
        except OSError:
            return False
        return True


def wipe_sandbox() -> None:
    """Remove everything an agent process can leave in the sandbox for the next one."""
    for folder in SCRATCH_FOLDERS:
        try:
            entries = list(os.scandir(folder))
        except FileNotFoundError:
            continue
        for entry in entries:
            _remove(entry.path)
    for kind in SYSV_IPC:
        _remove_sysv(kind)
    # The sandbox's syscall filter refuses keyrings (EPERM, ignored here); cleared all the
    # same for a sandbox run without it.
    _keyctl(KEYCTL_CLEAR, KEY_SPEC_USER_KEYRING)
    _keyctl(KEYCTL_CLEAR, KEY_SPEC_USER_SESSION_KEYRING)


def _remove(path: str) -> None:
    mode = os.lstat(path).st_mode
    if not stat.S_ISDIR(mode):
        os.unlink(path)
        return
    # Its owner may have taken its own permissions away; the zygote is that owner.
    os.chmod(path, 0o700)
    for entry in list(os.scandir(path)):
        _remove(entry.path)
    os.rmdir(path)


def _remove_sysv(kind: str) -> None:
    try:
        with open(f"/proc/sysvipc/{kind}", encoding="ascii") as table:
            rows = table.read().splitlines()[1:]
    except OSError:
        return
    for row in rows:
        fields = row.split()
        if len(fields) > 1 and fields[1].isdigit():
            identifier = int(fields[1])
            if kind == "shm":
                failed = _libc.shmctl(identifier, IPC_RMID, None)
            elif kind == "sem":
                failed = _libc.semctl(identifier, 0, IPC_RMID)
            else:
                failed = _libc.msgctl(identifier, IPC_RMID, None)
            if failed:
                raise OSError(ctypes.get_errno(), f"cannot remove a System V {kind} object")


def _keyctl(operation: int, argument: int | None) -> None:
    number = KEYCTL_SYSCALL.get(os.uname().machine)
    if number is not None:
        _libc.syscall(number, operation, argument)


def _close_all(fds: list[int]) -> None:
    for fd in fds:
        try:
            os.close(fd)
        except OSError:
            continue


def _open_files_limit() -> int:
    try:
        return max(os.sysconf("SC_OPEN_MAX"), _STREAMS + 1)
    except (OSError, ValueError):
        return 1024


def _ignore(signum: int, frame: object) -> None:
    """A SIGCHLD handler that does nothing: its wake-up byte is what the loop waits on."""


if __name__ == "__main__":
    sys.exit(main())
