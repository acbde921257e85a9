"""bubblewrap's JSON status channel: whether the agent program really ran, and the pid of
the sandbox's init, through which the whole sandbox is ended.

bubblewrap writes a JSON object per line: one when the sandbox is made (``child-pid``) and,
when the program ends, ``{"exit-code": N}``. A failure before the program runs (a bind that
fails, a program that cannot be executed) exits without the second. The agent cannot write
here: bubblewrap keeps the fd from it.
"""

from __future__ import annotations

import json
import os
import signal
from pathlib import Path


class StatusPipe:
    """The read end of the status pipe, read without blocking once bubblewrap has ended."""

    def __init__(self) -> None:
        self.read_fd, self.write_fd = os.pipe()
        os.set_blocking(self.read_fd, False)
        self._text = b""
        self._closed = False

    def close_write_end(self) -> None:
        """Called once the child has its copy, so the read end sees end-of-file."""
        if self.write_fd >= 0:
            os.close(self.write_fd)
            self.write_fd = -1

    def exit_code(self) -> int | None:
        """The program's exit code as bubblewrap reported it; ``None`` if it never ran."""
        return self._field("exit-code")

    def child_pid(self) -> int | None:
        """The host pid of the sandbox's init (bubblewrap's pid 1), once it exists."""
        return self._field("child-pid")

    def _field(self, name: str) -> int | None:
        self._drain()
        for line in self._text.splitlines():
            try:
                record = json.loads(line)
            except ValueError:
                continue
            if isinstance(record, dict) and isinstance(record.get(name), int):
                return int(record[name])
        return None

    def close(self) -> None:
        self.close_write_end()
        if not self._closed:
            self._closed = True
            os.close(self.read_fd)

    def _drain(self) -> None:
        while not self._closed:
            try:
                chunk = os.read(self.read_fd, 4096)
            except BlockingIOError:
                return
            if not chunk:
                return
            self._text += chunk


def kill_sandbox_init(status: StatusPipe, bwrap_pid: int) -> bool:
    """SIGKILL the sandbox's init, which takes its whole pid namespace down with it.

    The pid is held through a pidfd and checked to be bubblewrap's child, so a number reused
    by an unrelated process after the init ended is never signalled.
    """
    pid = status.child_pid()
    if pid is None:
        return False
    try:
        pidfd = os.pidfd_open(pid)
    except OSError:
        return False
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
        if int(stat.rsplit(")", 1)[1].split()[1]) != bwrap_pid:
            return False
        signal.pidfd_send_signal(pidfd, signal.SIGKILL)
    except (OSError, ValueError, IndexError):
        return False
    finally:
        os.close(pidfd)
    return True
