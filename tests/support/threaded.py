"""The real application served by uvicorn in a thread of the test, on a free loopback port.

Unlike a ``botarena serve`` child process, the test can reach into it (its engine, its bus),
and unlike the test client it streams: a client may leave in the middle of an answer.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager

import uvicorn
from fastapi import FastAPI

from support.live import free_port


@contextmanager
def serving(app: FastAPI, timeout: float = 20.0) -> Iterator[str]:
    """Serve ``app`` (its lifespan included) until the block ends; yields its base URL."""
    port = free_port()
    # No log_config and no log_level: uvicorn would otherwise set its loggers' levels and
    # handlers for the whole process, and later tests (of logging) would hear none of its lines.
    # A stream a client left open ends the shutdown after a few seconds, not at the join's
    # timeout.
    config = uvicorn.Config(
        app,
        host="127.0.0.1",
        port=port,
        log_config=None,
        access_log=False,
        lifespan="on",
        timeout_graceful_shutdown=3,
    )
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, name="uvicorn", daemon=True)
    thread.start()
    deadline = time.monotonic() + timeout
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            raise RuntimeError("the server did not start")
        time.sleep(0.02)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout)
