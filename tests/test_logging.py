"""The log's redaction: secrets in messages, fields, third-party lines and tracebacks never
reach the output, whatever the renderer."""

from __future__ import annotations

import io
import logging
from collections.abc import Iterator

import pytest
import structlog

from botarena.logging import configure_logging, redact

TOKEN = "bat_Zm9vYmFyYmF6cXV4cXV1eHh5enp5MTIzNDU2Nzg5"
PASSWORD = "correct-horse-battery"


@pytest.fixture
def captured(request: pytest.FixtureRequest) -> Iterator[io.StringIO]:
    """configure_logging writing into a buffer; the logging set-up is restored afterwards."""
    root = logging.getLogger()
    handlers, level = root.handlers[:], root.level
    config = structlog.get_config()
    stream = io.StringIO()
    configure_logging("DEBUG", request.param)
    root.handlers[0].setStream(stream)  # type: ignore[attr-defined]
    yield stream
    root.handlers[:] = handlers
    root.setLevel(level)
    structlog.configure(**config)


@pytest.mark.parametrize("captured", ["json", "console"], indirect=True)
def test_secrets_never_reach_the_output(captured: io.StringIO) -> None:
    log = structlog.get_logger("botarena.test")
    log.info("signed in", path=f"/events?access_token={TOKEN}", password=PASSWORD)
    log.info("nested", details={"token": TOKEN, "note": f"Bearer {TOKEN}"}, items=[TOKEN])
    log.info(f"connecting to postgresql+psycopg://bot:{PASSWORD}@db.internal/botarena")
    # uvicorn's own WebSocket line, with its query string.
    logging.getLogger("uvicorn.error").info(
        '%s - "WebSocket %s" [accepted]', "127.0.0.1:5", f"/x/events?access_token={TOKEN}&a=1"
    )
    try:
        raise RuntimeError(f"failed for {TOKEN} with password={PASSWORD}")
    except RuntimeError:
        log.exception("unhandled error")
    output = captured.getvalue()
    assert "WebSocket" in output and "unhandled error" in output and "a=1" in output
    assert TOKEN not in output
    assert PASSWORD not in output
    assert output.count("[redacted]") >= 8


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("GET /x?access_token=abc&page=2", "GET /x?access_token=[redacted]&page=2"),
        ("?cache_key=1&token=abc", "?cache_key=1&token=[redacted]"),
        ("postgresql://u:p%40ss@h:5432/db", "postgresql://u:[redacted]@h:5432/db"),
        ("sqlite:////srv/data/botarena.db", "sqlite:////srv/data/botarena.db"),
        ("Authorization: bearer abc.def", "Authorization: bearer [redacted]"),
        ("hash $argon2id$v=19$m=65536$salt$hash ok", "hash $argon2id$[redacted] ok"),
        ("user@host:22 and tok-1234 stay", "user@host:22 and tok-1234 stay"),
    ],
)
def test_redact(text: str, expected: str) -> None:
    assert redact(text) == expected
