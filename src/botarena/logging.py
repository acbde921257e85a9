"""Structured logs: readable lines on a terminal, JSON lines otherwise, with the request id,
and no secret in any of them."""

from __future__ import annotations

import logging
import re
import sys
from collections.abc import MutableMapping
from typing import Any, Literal

import structlog

_REDACTED = "[redacted]"
# A request id taken from outside (an ``X-Request-ID`` header, gRPC metadata): bounded, and of
# characters that are safe in a log line and a header.
_REQUEST_ID = re.compile(r"[A-Za-z0-9._-]{1,64}")
REQUEST_ID_METADATA = "x-request-id"
# Each pattern keeps its group 1 and drops the secret after it.
_SECRETS = (
    # A query or form parameter that carries a credential: ?access_token=…, &password=…
    re.compile(
        r"((?<![A-Za-z0-9_])(?:access_token|token|password|passwd|secret|api_key|apikey)=)"
        r"[^&\s\"'#]+",
        re.IGNORECASE,
    ),
    # The password in a URL's userinfo: postgresql://user:secret@host/db
    re.compile(r"([A-Za-z][A-Za-z0-9+.-]*://[^/\s:@\"']*:)[^@\s/\"']+(?=@)"),
    # A bearer credential in a header that made it into a message.
    re.compile(r"(\bBearer\s+)[A-Za-z0-9._~+/=-]+", re.IGNORECASE),
    # botarena's own token and one-time login secrets, wherever they appear.
    re.compile(r"(\bba[tl]_)[A-Za-z0-9_-]{8,}"),
    # Webhook signing secrets (notifications/sealing.py).
    re.compile(r"(\bwhsec_)[A-Za-z0-9_-]{8,}"),
    # Password hashes are secrets too.
    re.compile(r"(\$argon2(?:id|i|d)\$)\S+"),
)
# A structured field of one of these names is a secret whatever its value looks like.
_SECRET_FIELDS = frozenset(
    {"password", "token", "secret", "authorization", "access_token", "api_key", "cookie"}
)


def configure_logging(
    level: str = "INFO", fmt: Literal["auto", "console", "json"] = "auto"
) -> None:
    """Route structlog and the standard library's logging through one renderer."""
    use_console = fmt == "console" or (fmt == "auto" and sys.stderr.isatty())
    renderer: structlog.types.Processor = (
        structlog.dev.ConsoleRenderer() if use_console else structlog.processors.JSONRenderer()
    )
    shared: list[structlog.types.Processor] = [
        structlog.contextvars.merge_contextvars,
        structlog.stdlib.add_log_level,
        structlog.stdlib.add_logger_name,
        structlog.processors.TimeStamper(fmt="iso", utc=True),
    ]
    structlog.configure(
        processors=[*shared, structlog.stdlib.ProcessorFormatter.wrap_for_formatter],
        logger_factory=structlog.stdlib.LoggerFactory(),
        wrapper_class=structlog.stdlib.BoundLogger,
        cache_logger_on_first_use=True,
    )
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(
        structlog.stdlib.ProcessorFormatter(
            foreign_pre_chain=shared,
            processors=[
                structlog.stdlib.ProcessorFormatter.remove_processors_meta,
                structlog.processors.format_exc_info,
                # Last before rendering, so that tracebacks and third-party lines are covered.
                redact_secrets,
                renderer,
            ],
        )
    )
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)
    # uvicorn's own access log would repeat what the request middleware already logs.
    logging.getLogger("uvicorn.access").handlers[:] = []
    logging.getLogger("uvicorn.access").propagate = False
    for name in ("uvicorn", "uvicorn.error"):
        logging.getLogger(name).handlers[:] = []
        logging.getLogger(name).propagate = True


def valid_request_id(given: str | None) -> str | None:
    """``given`` when it is a well-formed request id, else None (the caller makes one)."""
    if given is not None and _REQUEST_ID.fullmatch(given):
        return given
    return None


def redact(text: str) -> str:
    """``text`` with every credential it shows replaced by ``[redacted]``."""
    for pattern in _SECRETS:
        text = pattern.sub(rf"\g<1>{_REDACTED}", text)
    return text


def redact_secrets(
    _logger: object, _method: str, event_dict: MutableMapping[str, Any]
) -> MutableMapping[str, Any]:
    """A structlog processor: redact every text value of a log line (the message, the
    fields, a formatted traceback), so a token in a URL or an error never reaches the log."""
    for key, value in event_dict.items():
        event_dict[key] = _redacted(key, value)
    return event_dict


def _redacted(key: object, value: object) -> object:
    if isinstance(key, str) and key.lower() in _SECRET_FIELDS and value is not None:
        return _REDACTED
    if isinstance(value, str):
        return redact(value)
    if value is None or isinstance(value, int | float | bool):
        return value
    if isinstance(value, dict):
        return {name: _redacted(name, item) for name, item in value.items()}
    if isinstance(value, list | tuple):
        return [_redacted(None, item) for item in value]
    # Anything else would be rendered through its repr: redact that.
    return redact(repr(value))
