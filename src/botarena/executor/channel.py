"""One agent's pipes seen from the referee: non-blocking, bounded, line by line."""

from __future__ import annotations

import os

from botarena.executor.agent_process import AgentProcess
from botarena.executor.logbuffer import BoundedLog
from botarena.executor.protocol import MAX_REPLY_BYTES

_READ_CHUNK = 65536


class ReplyTooLongError(Exception):
    """The agent wrote more than the reply limit without a newline."""


class AgentChannel:
    """Reads replies and stderr, writes messages; never blocks and never buffers without end."""

    def __init__(self, process: AgentProcess, log_limit: int, max_reply: int = MAX_REPLY_BYTES):
        self.process = process
        self.stdin_fd = process.stdin.fileno()
        self.stdout_fd = process.stdout.fileno()
        self.stderr_fd = process.stderr.fileno()
        for fd in (self.stdin_fd, self.stdout_fd, self.stderr_fd):
            os.set_blocking(fd, False)
        self.log = BoundedLog(log_limit)
        self.max_reply = max_reply
        self._partial = bytearray()
        self._lines: list[bytes] = []
        self._outgoing = bytearray()
        self.stdout_closed = False
        self.stderr_closed = False
        self.stdin_broken = False

    # -- writing -------------------------------------------------------------------------
    def send(self, message: bytes) -> None:
        """Queue ``message`` and write as much as the pipe takes now."""
        self._outgoing += message
        self.flush()

    def flush(self) -> None:
        while self._outgoing and not self.stdin_broken:
            try:
                written = os.write(self.stdin_fd, self._outgoing)
            except BlockingIOError:
                return
            except (BrokenPipeError, OSError):
                # The agent is gone; reading its stdout will tell the referee so.
                self.stdin_broken = True
                self._outgoing.clear()
                return
            del self._outgoing[:written]

    @property
    def wants_to_write(self) -> bool:
        return bool(self._outgoing) and not self.stdin_broken

    # -- reading -------------------------------------------------------------------------
    def read_stdout(self) -> None:
        """Take what is available; complete lines queue up, a partial one is bounded."""
        try:
            data = os.read(self.stdout_fd, _READ_CHUNK)
        except BlockingIOError:
            return
        except OSError:
            data = b""
        if not data:
            self.stdout_closed = True
            return
        if self._partial:
            self._partial += data
            data = bytes(self._partial)
            self._partial.clear()
        *lines, rest = data.split(b"\n")
        for line in lines:
            if len(line) > self.max_reply:
                raise ReplyTooLongError
            self._lines.append(line)
        if len(rest) > self.max_reply:
            raise ReplyTooLongError
        self._partial += rest

    def read_stderr(self) -> None:
        try:
            data = os.read(self.stderr_fd, _READ_CHUNK)
        except BlockingIOError:
            return
        except OSError:
            data = b""
        if not data:
            self.stderr_closed = True
            return
        self.log.write(data)

    def next_line(self) -> bytes | None:
        """The oldest complete line not yet taken."""
        return self._lines.pop(0) if self._lines else None

    def drain_stderr(self) -> None:
        """Read whatever stderr still holds (after the agent stopped)."""
        while not self.stderr_closed:
            try:
                data = os.read(self.stderr_fd, _READ_CHUNK)
            except (BlockingIOError, OSError):
                return
            if not data:
                self.stderr_closed = True
                return
            self.log.write(data)
