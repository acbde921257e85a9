"""Zygotes kept ready per prepared agent, each lent to one match-agent at a time.

A zygote is checked out for one agent process and given back when that process is closed, so
two agents of one match (even one agent playing itself) never share a sandbox. The pool grows
on demand; a zygote idle for ``idle_seconds`` is stopped, and so is one that broke or died
(it is replaced by a fresh one, never reused), and so is one whose key is no longer
``current`` (its artifact was replaced or removed: see :mod:`.identity`). Each agent process
runs in its own cgroup, created here, that it is moved into before the referee says ``hello``
to it.
"""

from __future__ import annotations

import contextlib
import secrets
import signal
import threading
import time
import weakref
from collections.abc import Callable, Hashable

from botarena.executor.forkserver.forked import ForkedAgent
from botarena.executor.forkserver.zygote import ForkedChild, Zygote, match_limits
from botarena.executor.sandbox import CgroupDriver, Limits, SandboxError, SandboxSpec
from botarena.executor.sandbox.cgroup_base import Cgroup, discard

START_TIMEOUT = 10.0
IDLE_SECONDS = 60.0

KeyCheck = Callable[[Hashable], bool]


def _always(key: Hashable) -> bool:
    return True


class _Zygotes:
    """The pool's zygotes, apart from the pool so that its finalizer can stop them."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.idle: dict[Hashable, list[tuple[float, Zygote]]] = {}
        self.live: set[Zygote] = set()
        self.closed = False

    def stop_all(self) -> None:
        with self.lock:
            self.closed = True
            everything = list(self.live)
            self.live.clear()
            self.idle.clear()
        _stop(everything)


class ZygotePool:
    """Starts forked agent processes for sandboxed Python agents."""

    def __init__(
        self,
        limits: Limits,
        driver: CgroupDriver,
        *,
        idle_seconds: float = IDLE_SECONDS,
        start_timeout: float = START_TIMEOUT,
        current: KeyCheck = _always,
    ) -> None:
        self.limits = limits
        self.driver = driver
        self.idle_seconds = idle_seconds
        self.start_timeout = start_timeout
        self.current = current
        self.started = 0  # zygotes started so far
        self._zygotes = _Zygotes()
        self._stop_sweeping = threading.Event()
        self._sweeper: threading.Thread | None = None
        # A runner nobody closes (a one-off command) still leaves no sandbox or cgroup behind.
        self._finalizer = weakref.finalize(self, _shut_down, self._zygotes, self._stop_sweeping)

    def start(self, key: Hashable, spec: SandboxSpec, *, name: str) -> ForkedAgent:
        """A fresh agent process for the agent ``spec`` runs; ``key`` identifies that agent.

        A reused zygote that fails is replaced once; a fresh one that fails raises
        :class:`SandboxError` (the platform's failure, not the agent's).
        """
        while True:
            zygote, reused = self._checkout(key, spec)
            try:
                return self._fork(zygote, name)
            except SandboxError:
                self._give_back(zygote, healthy=False)
                if not reused:
                    raise

    def close(self) -> None:
        """Stop every zygote (agent processes still running die with theirs)."""
        self._finalizer()

    def _checkout(self, key: Hashable, spec: SandboxSpec) -> tuple[Zygote, bool]:
        broken: list[Zygote] = []
        found: Zygote | None = None
        with self._zygotes.lock:
            if self._zygotes.closed:
                raise SandboxError("the runner is closed")
            waiting = self._zygotes.idle.get(key, [])
            while waiting and found is None:
                _, candidate = waiting.pop()
                if candidate.usable:
                    found = candidate
                else:
                    broken.append(candidate)
                    self._zygotes.live.discard(candidate)
        _stop(broken)
        if found is not None:
            return found, True
        zygote = Zygote.start(key, spec, self.limits, self.driver, timeout=self.start_timeout)
        with self._zygotes.lock:
            self.started += 1
            closed = self._zygotes.closed
            if not closed:
                self._zygotes.live.add(zygote)
        if closed:
            _stop([zygote])
            raise SandboxError("the runner is closed")
        return zygote, False

    def _fork(self, zygote: Zygote, name: str) -> ForkedAgent:
        child = zygote.fork(self.start_timeout)
        cgroup: Cgroup | None = None
        try:
            cgroup = self.driver.create(f"{name}-{secrets.token_hex(4)}", match_limits(self.limits))
            for path in cgroup.procs_files:
                path.write_text(str(child.host_pid))
        except BaseException as exc:
            zygote.broken = True
            _kill_child(child)
            if cgroup is not None:
                discard(cgroup)
            if isinstance(exc, OSError):
                raise SandboxError(f"cannot move an agent process into its cgroup: {exc}") from exc
            raise
        return ForkedAgent(zygote, child, cgroup, self.limits, self._give_back)

    def _give_back(self, zygote: Zygote, healthy: bool) -> None:
        keep = healthy and zygote.usable and self.current(zygote.key)
        with self._zygotes.lock:
            keep = keep and not self._zygotes.closed
            if keep:
                self._zygotes.idle.setdefault(zygote.key, []).append((time.monotonic(), zygote))
                self._start_sweeper()
            else:
                self._zygotes.live.discard(zygote)
        if not keep:
            _stop([zygote])

    def _start_sweeper(self) -> None:
        """Called with the lock held."""
        if self._sweeper is None:
            self._sweeper = threading.Thread(
                target=_sweep,
                args=(self._zygotes, self._stop_sweeping, self.idle_seconds, self.current),
                name="zygote-sweeper",
                daemon=True,
            )
            self._sweeper.start()


def _sweep(
    zygotes: _Zygotes, stop: threading.Event, idle_seconds: float, current: KeyCheck
) -> None:
    """Stop zygotes idle for longer than ``idle_seconds``, and idle ones whose key is no
    longer current, until the pool is shut down."""
    interval = max(0.05, min(idle_seconds / 4, 5.0))
    while not stop.wait(interval):
        with zygotes.lock:
            keys = list(zygotes.idle)
        stale = {key for key in keys if not current(key)}  # outside the lock: it looks at files
        expired: list[Zygote] = []
        limit = time.monotonic() - idle_seconds
        with zygotes.lock:
            for key, waiting in zygotes.idle.items():
                gone = key in stale
                expired += [zygote for since, zygote in waiting if gone or since <= limit]
                waiting[:] = [(s, z) for s, z in waiting if not gone and s > limit]
            for key in [key for key, waiting in zygotes.idle.items() if not waiting]:
                del zygotes.idle[key]  # keys of removed artifacts are not kept forever
            zygotes.live.difference_update(expired)
        _stop(expired)


def _shut_down(zygotes: _Zygotes, stop_sweeping: threading.Event) -> None:
    stop_sweeping.set()
    zygotes.stop_all()


def _stop(zygotes: list[Zygote]) -> None:
    """Stop each one; a failure to clean one up does not keep the others running."""
    problems: list[str] = []
    for zygote in zygotes:
        try:
            zygote.stop()
        except SandboxError as exc:
            problems.append(str(exc))
    if problems:
        raise SandboxError("; ".join(problems))


def _kill_child(child: ForkedChild) -> None:
    with contextlib.suppress(OSError):
        signal.pidfd_send_signal(child.pidfd, signal.SIGKILL)
    child.close_fds()
