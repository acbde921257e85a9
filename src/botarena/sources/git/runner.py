"""Running the git commands of one fetch under a shared deadline and size limit.

Each command runs in a process group of its own (git starts helpers: ``git-remote-https``,
``index-pack``...), so that crossing a limit kills all of them at once. One loop on the
calling thread reads the output and, between reads, checks the clock and the folder size
about five times a second; ``on_output`` is therefore called on the caller's thread.
"""

from __future__ import annotations

import contextlib
import os
import selectors
import signal
import subprocess
import time
from collections import deque
from dataclasses import dataclass
from pathlib import Path

from botarena.sources.archives.errors import human
from botarena.sources.git.output import LineSplitter, OutputLog
from botarena.sources.git.size import folder_size
from botarena.sources.git.types import FetchError, FetchLimits

SIZE_CHECK_SECONDS = 0.2
_READ_BYTES = 64 * 1024
_KEPT_LINES = 200


@dataclass(frozen=True)
class GitResult:
    returncode: int
    lines: list[str]
    """The last lines this command printed (stderr and stdout together)."""


class GitRunner:
    """Runs ``git OPTIONS ARGS...`` commands, all counted against the same limits."""

    def __init__(
        self,
        *,
        options: list[str],
        env: dict[str, str],
        dest: Path,
        limits: FetchLimits,
        log: OutputLog,
    ) -> None:
        self._options = options
        self._env = env
        self._dest = str(dest)
        self._limits = limits
        self.log = log
        self._deadline = time.monotonic() + limits.timeout_seconds
        self._next_size_check = 0.0

    def run(self, *args: str, quiet: bool = False) -> GitResult:
        """Run one git command to its end; ``quiet`` keeps its output out of the log.

        Raises :class:`FetchError` (after killing the command) when a limit is crossed.
        """
        lines: deque[str] = deque(maxlen=_KEPT_LINES)

        def emit(line: str) -> None:
            lines.append(line)
            if not quiet:
                self.log.add(line)

        splitter = LineSplitter(emit)
        self._check_limits()
        process = subprocess.Popen(
            ["git", *self._options, *args],
            env=self._env,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            # A new session is also a new process group, and has no terminal to prompt on.
            start_new_session=True,
        )
        try:
            self._pump(process, splitter)
            self._wait_for_exit(process)
        finally:
            _kill_group(process)
            process.wait()
            if process.stdout is not None:
                process.stdout.close()
        splitter.close()
        return GitResult(process.returncode, list(lines))

    def check_size(self) -> None:
        """Refuse the fetch if the destination folder is over the size limit now."""
        limit = self._limits.max_bytes
        if folder_size(self._dest, limit) > limit:
            raise FetchError(
                "fetch_failed", f"the repository is larger than {human(limit)}", self.log.text()
            )

    def _check_limits(self) -> float:
        """Raise past a limit; otherwise return how long to wait before the next check."""
        now = time.monotonic()
        if now >= self._deadline:
            seconds = f"{self._limits.timeout_seconds:g}"
            raise FetchError("timeout", f"fetching took longer than {seconds} s", self.log.text())
        if now >= self._next_size_check:
            self.check_size()
            counted = time.monotonic()
            # A slow count (many files) spaces the next one out, so that counting never
            # takes more than about a third of the time.
            self._next_size_check = counted + max(SIZE_CHECK_SECONDS, 2 * (counted - now))
            now = counted
        return max(0.0, min(self._deadline, self._next_size_check) - now)

    def _pump(self, process: subprocess.Popen[bytes], splitter: LineSplitter) -> None:
        assert process.stdout is not None
        fd = process.stdout.fileno()
        with selectors.DefaultSelector() as selector:
            selector.register(fd, selectors.EVENT_READ)
            while True:
                wait = self._check_limits()
                if not selector.select(wait):
                    continue
                chunk = os.read(fd, _READ_BYTES)
                if not chunk:
                    return
                splitter.feed(chunk)

    def _wait_for_exit(self, process: subprocess.Popen[bytes]) -> None:
        """Wait for git to exit, under the limits, without reaping it.

        While the exited process is not reaped its id stays taken, so killing its group
        afterwards cannot hit an unrelated process that was given the same id.
        """
        while os.waitid(os.P_PID, process.pid, os.WEXITED | os.WNOWAIT | os.WNOHANG) is None:
            self._check_limits()
            time.sleep(0.01)


def _kill_group(process: subprocess.Popen[bytes]) -> None:
    """Kill git and every helper it started; harmless when they are all gone."""
    if process.returncode is not None:
        return
    with contextlib.suppress(ProcessLookupError):
        os.killpg(process.pid, signal.SIGKILL)
