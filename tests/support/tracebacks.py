"""Logged exceptions rendered as plain tracebacks inside the test process.

Until something configures logging, structlog renders each logged exception with rich, with
every frame's local variables: a request's frames hold the app, its settings and its
sessions, so one ``log.exception`` of an app error took seconds to draw (half a minute on a
busy machine), for output that only a failing test ever shows. The platform's own logging
(``botarena.logging.configure_logging``) formats tracebacks plainly as well, so the tests'
logs read like the platform's. Only the renderer changes: what is logged, and what
``structlog.testing.capture_logs`` sees, stay the same.
"""

from __future__ import annotations

import pytest
import structlog


def pytest_configure(config: pytest.Config) -> None:
    processors = [
        structlog.dev.ConsoleRenderer(exception_formatter=structlog.dev.plain_traceback)
        if isinstance(processor, structlog.dev.ConsoleRenderer)
        else processor
        for processor in structlog.get_config()["processors"]
    ]
    structlog.configure(processors=processors)
