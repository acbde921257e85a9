"""Copying bytes both ways between two stream pairs until both sides end or fall idle."""

from __future__ import annotations

import asyncio
import contextlib

Streams = tuple[asyncio.StreamReader, asyncio.StreamWriter]
_CHUNK = 64 * 1024


async def relay(one: Streams, other: Streams, idle_timeout: float) -> None:
    """Relay until each direction has ended, or until nothing moved either way for
    ``idle_timeout`` seconds, or a side fails. The caller closes the writers."""
    loop = asyncio.get_running_loop()
    last = [loop.time()]

    async def pump(source: asyncio.StreamReader, sink: asyncio.StreamWriter) -> None:
        while True:
            try:
                data = await asyncio.wait_for(source.read(_CHUNK), idle_timeout)
            except TimeoutError:
                if loop.time() - last[0] < idle_timeout:
                    continue  # the other direction is busy
                raise
            if not data:
                # Half-close: the other direction may still carry the answer.
                with contextlib.suppress(OSError):
                    if sink.can_write_eof():
                        sink.write_eof()
                return
            last[0] = loop.time()
            sink.write(data)
            await asyncio.wait_for(sink.drain(), idle_timeout)

    tasks = [
        asyncio.create_task(pump(one[0], other[1])),
        asyncio.create_task(pump(other[0], one[1])),
    ]
    try:
        await asyncio.wait(tasks, return_when=asyncio.FIRST_EXCEPTION)
    finally:
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
