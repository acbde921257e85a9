"""How an agent process ended, told as one sentence for the match log.

bubblewrap reports a program killed by signal N as exit code 128 + N (as shells do), so an
agent that itself exits with a code above 128 reads as killed by a signal. Its JSON status
carries an ``exit-code`` record only when the program really ran; a failure before that (a
bad bind, a program that cannot be executed) has none, which is how a sandbox that never
started is told apart from an agent exiting with the same code.
"""

from __future__ import annotations

import signal
from dataclasses import dataclass

from botarena.executor.sandbox.limits import format_bytes

_SIGNAL_OFFSET = 128


@dataclass(frozen=True)
class ExitStatus:
    """The end of an agent process.

    ``code`` is set when it exited by itself, ``signal`` when a signal killed it.
    ``out_of_memory``: the kernel killed a process of the sandbox for exceeding its memory
    limit. ``stopped_by_host``: we killed it while it was still running (match over).
    ``process_limit_hit``: a fork was refused for the process limit at some point.
    ``failed_to_start``: the sandbox could not be set up or the program could not be executed
    (a missing binary, say); bubblewrap's message is on stderr.
    """

    code: int | None
    signal: int | None
    out_of_memory: bool = False
    stopped_by_host: bool = False
    failed_to_start: bool = False
    memory_limit_bytes: int | None = None
    # A fork was refused for the process limit (a fork bomb, say), whatever ended it.
    process_limit_hit: bool = False

    def reason(self) -> str:
        limit = "" if self.memory_limit_bytes is None else f" (limit {self._limit()})"
        if self.failed_to_start:
            return (
                f"failed to start (exit status {self.code}): the sandbox could not be set up "
                "or the program not executed; bubblewrap says why on stderr"
            )
        if self.out_of_memory and self.signal == signal.SIGKILL:
            return f"killed: out of memory{limit}"
        if self.stopped_by_host:
            return "killed: stopped by the host"
        if self.signal is not None:
            return f"killed by signal {signal_name(self.signal)}"
        if self.out_of_memory:
            return f"exited with code {self.code} after running out of memory{limit}"
        return f"exited with code {self.code}"

    def _limit(self) -> str:
        return format_bytes(self.memory_limit_bytes or 0)


class ReportsExit:
    """How a started agent ended, told from its :meth:`exit_status` (shared by every kind of
    agent process)."""

    def exit_status(self) -> ExitStatus | None:
        raise NotImplementedError

    def exit_reason(self) -> str:
        """One sentence: "exited with code 3", "killed by signal SIGSEGV", "killed: out of
        memory (limit 512 MiB)", "killed: stopped by the host", or "still running"."""
        status = self.exit_status()
        return "still running" if status is None else status.reason()

    @property
    def out_of_memory(self) -> bool:
        """The kernel killed a process of the agent for using more than its memory limit."""
        status = self.exit_status()
        return status is not None and status.out_of_memory


def signal_name(number: int) -> str:
    try:
        return signal.Signals(number).name
    except ValueError:
        return str(number)


def decode_sandboxed(returncode: int, *, program_ran: bool) -> tuple[int | None, int | None, bool]:
    """``(code, signal, failed_to_start)`` from bubblewrap's own return code.

    A negative code means bubblewrap itself was killed (by us, or by the OOM killer).
    """
    if returncode < 0:
        return None, -returncode, False
    if returncode > _SIGNAL_OFFSET and _is_signal(returncode - _SIGNAL_OFFSET):
        return None, returncode - _SIGNAL_OFFSET, False
    return returncode, None, not program_ran and returncode != 0


def decode_plain(returncode: int) -> tuple[int | None, int | None, bool]:
    """The same from a directly started process, as :mod:`subprocess` reports it."""
    if returncode < 0:
        return None, -returncode, False
    return returncode, None, False


def _is_signal(number: int) -> bool:
    try:
        signal.Signals(number)
    except ValueError:
        return False
    return True
