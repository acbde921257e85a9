"""``botarena executor``: the service that plays matches, reached over gRPC (mutual TLS);
``botarena executor credentials``: the bundle another machine's executor serves with."""

from __future__ import annotations

import signal
import threading
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from botarena.cli.output import console, fail

if TYPE_CHECKING:
    from botarena.executor.grpc_service import ExecutorServicer
    from botarena.executor.http_port import HttpPort

executor_app = typer.Typer(
    help="Serve matches to the API server over gRPC, or make an executor's credentials.",
    invoke_without_command=True,
    no_args_is_help=False,
)


@executor_app.callback()
def executor(
    ctx: typer.Context,
    listen: Annotated[
        str,
        typer.Option(help="host:port to serve gRPC on (port 0 picks a free one), or unix:/path."),
    ] = "127.0.0.1:50051",
    capacity: Annotated[int, typer.Option(help="Matches played at once.", min=1, max=256)] = 2,
    http_listen: Annotated[
        str | None,
        typer.Option(
            envvar="BOTARENA_EXECUTOR_HTTP_LISTEN",
            help="host:port for plain HTTP /metrics, /readyz and /healthz (off when not given).",
        ),
    ] = None,
) -> None:
    """Serve matches to the API server over gRPC until stopped (Ctrl-C or SIGTERM).

    Only the platform's dispatcher can call it: it serves over mutual TLS with the bundle in
    BOTARENA_TLS_DIR (default: pki/ in the data folder), and plays only artifacts under its
    data folder or images of the configured registry.
    """
    if ctx.invoked_subcommand is not None:
        return
    from botarena.executor.artifacts import ArtifactPolicy
    from botarena.executor.credentials import CredentialsError, executor_identity
    from botarena.executor.grpc_service import ExecutorServicer, runner_for, serve
    from botarena.logging import configure_logging
    from botarena.settings import get_settings

    settings = get_settings()
    configure_logging(settings.log_level, settings.log_format)
    try:
        identity = executor_identity(settings.credentials_dir)
    except CredentialsError as exc:
        fail(str(exc))
    try:
        runner = runner_for(settings)
    except RuntimeError as exc:
        fail(str(exc))
    service = ExecutorServicer(runner, ArtifactPolicy.from_settings(settings), capacity=capacity)
    try:
        server, port = serve(service, listen, identity)
    except (OSError, RuntimeError) as exc:
        fail(f"cannot listen on {listen}: {exc}")
    where = listen if listen.startswith("unix:") else f"{listen.rpartition(':')[0]}:{port}"
    console.print(f"botarena executor is serving at [bold]{where}[/]", highlight=False)
    http = _http_port(http_listen, service)
    left = identity.not_after - datetime.now(UTC)
    console.print(
        f"certificate valid until {identity.not_after:%Y-%m-%d}"
        + (" - make a new bundle soon (botarena executor credentials)" if left.days < 14 else ""),
        highlight=False,
        style="dim" if left.days >= 14 else "yellow",
    )
    stopped = threading.Event()
    for signum in (signal.SIGINT, signal.SIGTERM):
        signal.signal(signum, lambda *_: stopped.set())
    stopped.wait()
    service.standard_health.stopping()
    if http is not None:
        http.close()
    server.stop(grace=5).wait()
    service.close()
    runner.close()


def _http_port(listen: str | None, service: ExecutorServicer) -> HttpPort | None:
    if not listen:
        return None
    from botarena.executor.http_port import HttpPort

    try:
        http = HttpPort(listen, service.standard_health)
    except (OSError, ValueError) as exc:
        fail(f"cannot listen on {listen}: {exc}")
    host = listen.rpartition(":")[0]
    console.print(f"metrics and readiness at [bold]http://{host}:{http.port}/[/]", highlight=False)
    return http


@executor_app.command("credentials")
def credentials(
    out: Annotated[Path, typer.Option(help="Folder to write the bundle to (made 0700).")],
    days: Annotated[int, typer.Option(help="Days the certificate is valid.", min=1)] = 90,
) -> None:
    """Make a certificate bundle for an executor on another machine.

    Run it where `botarena serve` runs: the bundle (ca.pem, botarena-executor.pem and .key) is
    signed by the server's authority. Copy the folder to the executor's BOTARENA_TLS_DIR.
    """
    from botarena.executor.credentials import (
        EXECUTOR,
        CertificateAuthority,
        CredentialsError,
        write_bundle,
    )
    from botarena.settings import get_settings

    try:
        authority = CertificateAuthority.open_or_create(get_settings().credentials_dir)
        identity = authority.issue(EXECUTOR, days=days)
    except CredentialsError as exc:
        fail(str(exc))
    write_bundle(identity, out)
    console.print(
        f"wrote an executor bundle to [bold]{out}[/], valid until {identity.not_after:%Y-%m-%d}",
        highlight=False,
    )
