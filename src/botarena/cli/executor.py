"""``botarena executor``: the service that plays matches, reached over gRPC."""

from __future__ import annotations

import signal
import threading
from typing import Annotated

import typer

from botarena.cli.output import console, fail


def executor(
    listen: Annotated[
        str, typer.Option(help="host:port to serve gRPC on (port 0 picks a free one).")
    ] = "127.0.0.1:50051",
    capacity: Annotated[int, typer.Option(help="Matches played at once.", min=1, max=256)] = 2,
) -> None:
    """Serve matches to the API server over gRPC until stopped (Ctrl-C or SIGTERM)."""
    from botarena.executor.service import ArtifactRunner, ExecutorService, serve
    from botarena.logging import configure_logging
    from botarena.settings import get_settings

    settings = get_settings()
    configure_logging(settings.log_level, settings.log_format)
    runner = ArtifactRunner(settings)
    service = ExecutorService(runner, capacity=capacity)
    try:
        server, port = serve(service, listen)
    except (OSError, RuntimeError) as exc:
        fail(f"cannot listen on {listen}: {exc}")
    host = listen.rpartition(":")[0] or "0.0.0.0"  # noqa: S104 - only echoed back
    console.print(f"botarena executor is serving at [bold]{host}:{port}[/]", highlight=False)
    stopped = threading.Event()
    for signum in (signal.SIGINT, signal.SIGTERM):
        signal.signal(signum, lambda *_: stopped.set())
    stopped.wait()
    server.stop(grace=5).wait()
    service.close()
    runner.close()
