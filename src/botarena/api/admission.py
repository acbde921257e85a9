"""Admission control: at most N requests hold a database session at once, a bounded line in
front of them, and 503 with ``Retry-After`` for what cannot get in soon enough.

Why it exists: a sync route holds its database connection from its first query until its
session closes, and between the steps of a request (dependencies, the route, the answer's
validation) it waits for a worker thread again. With more sessions open than connections, every
thread can end up waiting for a connection held by a request that waits for a thread: the server
stalls until the pool's timeout fires. Letting no more requests open a session than the pool can
serve at once makes that cycle impossible; the rest wait here, on the event loop, where waiting
costs nothing, and are told to come back when the wait would be too long.

A turn is taken by the request's session dependency, after the body has been read, and given
back as soon as the route's answer is built (before it is sent): slow uploads, slow readers and
long event streams never hold one.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import anyio
import anyio.to_thread
from fastapi import Request

from botarena.db.engine import PoolLimits
from botarena.errors import AppError
from botarena.settings import Settings

# What a refused client is told to wait; short, since a turn frees in milliseconds.
RETRY_AFTER_SECONDS = 2
# Worker threads beyond the admitted requests: event streams' reads, WebSocket handshakes.
THREAD_MARGIN = 8
# Connections beyond the worker threads: the background services of botarena serve.
POOL_OVERFLOW = 16


def worker_threads(settings: Settings) -> int:
    """How many worker threads run sync routes: one per admitted request, and a margin."""
    return settings.max_concurrent_requests + THREAD_MARGIN


def pool_limits(settings: Settings) -> PoolLimits:
    """A connection for every worker thread, the background services' on top; a request
    that still finds none in ``db_pool_timeout`` seconds is answered 503."""
    return PoolLimits(
        size=worker_threads(settings), overflow=POOL_OVERFLOW, timeout=settings.db_pool_timeout
    )


def widen_thread_limit(settings: Settings) -> None:
    """Give the running event loop's worker threads room for every admitted request."""
    limiter = anyio.to_thread.current_default_thread_limiter()
    limiter.total_tokens = max(limiter.total_tokens, worker_threads(settings))


def server_busy() -> AppError:
    """503 for a request that could not get a turn (or a connection) in time."""
    return AppError(
        "Server busy",
        f"Too many requests at once; retry after {RETRY_AFTER_SECONDS} s.",
        [],
        503,
        {"Retry-After": str(RETRY_AFTER_SECONDS)},
    )


class Admission:
    """At most ``limit`` turns at once, handed out in arrival order; up to ``queue`` more
    requests wait at most ``wait`` seconds each, the others are refused at once."""

    def __init__(self, *, limit: int, queue: int, wait: float) -> None:
        self.limit = limit
        self.queue = queue
        self.wait = wait
        self.waiting = 0
        self._turns: anyio.Semaphore | None = None

    async def take(self) -> bool:
        """Take a turn, waiting in line if there is room in it; False when refused."""
        if self._turns is None:
            # Made on first use: it belongs to the server's event loop.
            self._turns = anyio.Semaphore(self.limit)
        try:
            self._turns.acquire_nowait()
            return True
        except anyio.WouldBlock:
            pass
        if self.waiting >= self.queue:
            return False
        self.waiting += 1
        try:
            with anyio.move_on_after(self.wait):
                await self._turns.acquire()
                return True
            return False
        finally:
            self.waiting -= 1

    def give_back(self) -> None:
        """End a turn taken with :meth:`take`."""
        assert self._turns is not None
        self._turns.release()


async def take_turn(request: Request) -> AsyncIterator[None]:
    """A FastAPI dependency: hold one of the server's turns while the route runs; 503 with
    ``Retry-After`` when none comes in time."""
    async with turn(request):
        yield


@asynccontextmanager
async def turn(request: Request) -> AsyncIterator[None]:
    """One of the server's turns, held for the block; 503 with ``Retry-After`` when none comes
    in time. (:func:`take_turn` as a block, for a route that opens its own session: cheaper
    than a generator dependency.)"""
    admission: Admission = request.app.state.admission
    if not await admission.take():
        raise server_busy()
    try:
        yield
    finally:
        admission.give_back()
