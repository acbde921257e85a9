"""Live blocks over Server-Sent Events: when a topic of the event bus fires, the page's block
is rendered again and sent whole, for htmx's SSE extension to swap in.

A stream subscribes to the bus (``leaderboard:<game>``, ``match:``, ``submission:``), waits
for a notice, lets a burst of notices settle, then renders the blocks they concern once (in a
worker thread, with a reading session) and sends each as an event named after its block. No
one polls: between notices a stream only sends a comment now and then, so that proxies keep
it open. A client that comes back with ``Last-Event-ID`` may have missed notices, so it is
sent every block at once. A stream ends after an hour; the browser's EventSource reconnects.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Callable, Collection
from dataclasses import dataclass
from functools import lru_cache

from starlette.concurrency import run_in_threadpool
from starlette.types import Receive

from botarena.events import EventBus, Notice

KEEPALIVE_SECONDS = 20.0
SETTLE_SECONDS = 0.25
MAX_STREAM_SECONDS = 3600.0
RETRY_MS = 3000


@dataclass(frozen=True)
class Watch:
    """A topic (or a prefix of topics) and the blocks to send again when it fires."""

    topic: str
    blocks: tuple[str, ...]
    prefix: bool = False
    # Some notices of a topic change nothing shown (a build log that grew).
    only: Callable[[Notice], bool] | None = None


# The blocks to render, and the time of the latest notice they must show (time.monotonic()).
Render = Callable[[Collection[str], float], dict[str, str]]


def status_only(notice: Notice) -> bool:
    """A status entered (not a log that grew)."""
    return "status" in notice.data


async def block_events(
    bus: EventBus, watches: list[Watch], render: Render, receive: Receive, *, resumed: bool
) -> AsyncIterator[str]:
    """The SSE text of a stream: a ``retry`` hint, then each block's fresh HTML when its
    topics fire; all blocks first when ``resumed``. It ends as soon as the client leaves
    (heard on ``receive``), not at its next write."""
    loop = asyncio.get_running_loop()
    due: set[str] = set()
    noticed = time.monotonic()
    wake = asyncio.Event()
    gone = asyncio.Event()

    async def until_gone() -> None:
        while (await receive())["type"] != "http.disconnect":
            pass
        gone.set()
        wake.set()

    def mark(blocks: tuple[str, ...]) -> None:
        nonlocal noticed
        # Heard after the notice was published, so after its transaction committed.
        noticed = time.monotonic()
        due.update(blocks)
        wake.set()

    def listener(watch: Watch) -> Callable[[Notice], None]:
        def heard(notice: Notice) -> None:  # on the bus's thread
            if watch.only is None or watch.only(notice):
                loop.call_soon_threadsafe(mark, watch.blocks)

        return heard

    subscriptions = [bus.subscribe(w.topic, listener(w), prefix=w.prefix) for w in watches]
    watcher = asyncio.create_task(until_gone())
    try:
        yield f"retry: {RETRY_MS}\n\n"
        if resumed:
            mark(tuple(block for w in watches for block in w.blocks))
        deadline = loop.time() + MAX_STREAM_SECONDS
        sent = 0
        while loop.time() < deadline:
            try:
                await asyncio.wait_for(wake.wait(), KEEPALIVE_SECONDS)
            except TimeoutError:
                yield ": keep-alive\n\n"
                continue
            if gone.is_set():
                return
            await asyncio.sleep(SETTLE_SECONDS)
            wake.clear()
            blocks = sorted(due)
            due.clear()
            fragments = await run_in_threadpool(render, blocks, noticed)
            for name, html in fragments.items():
                sent += 1
                yield as_event(name, html, sent)
    finally:
        watcher.cancel()
        for subscription in subscriptions:
            subscription.close()


def as_event(name: str, html: str, event_id: int) -> str:
    """One SSE event carrying ``html`` (each of its lines a ``data`` line)."""
    return f"id: {event_id}\nevent: {name}\n{_data_lines(html)}\n"


@lru_cache(maxsize=64)
def _data_lines(html: str) -> str:
    """``html`` as ``data`` lines: made once for the many streams that send one shared
    render (a string keeps its hash, so finding it again costs nothing)."""
    return "".join(f"data: {line}\n" for line in html.splitlines() or [""])
