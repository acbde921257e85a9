"""The log as the server writes it (JSON lines), captured for a test and read back."""

from __future__ import annotations

import io
import json
import logging
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import structlog

from botarena.logging import configure_logging


@contextmanager
def captured_log() -> Iterator[io.StringIO]:
    """configure_logging writing JSON lines into a buffer; the set-up is restored after."""
    root = logging.getLogger()
    handlers, level = root.handlers[:], root.level
    config = structlog.get_config()
    stream = io.StringIO()
    configure_logging("INFO", "json")
    # Loggers used meanwhile must not keep this set-up once it is restored (a later test's
    # structlog.testing.capture_logs would not see them).
    structlog.configure(cache_logger_on_first_use=False)
    root.handlers[0].setStream(stream)  # type: ignore[attr-defined]
    try:
        yield stream
    finally:
        root.handlers[:] = handlers
        root.setLevel(level)
        structlog.configure(**config)


def log_lines(stream: io.StringIO) -> list[dict[str, Any]]:
    """Every line botarena's own loggers wrote so far, parsed (not the test client's)."""
    lines = [json.loads(line) for line in stream.getvalue().splitlines() if line.startswith("{")]
    return [line for line in lines if str(line.get("logger", "")).startswith("botarena")]
