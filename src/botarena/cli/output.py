"""How commands print: Rich for people, JSON for machines, errors on stderr."""

from __future__ import annotations

import json
from typing import Any, NoReturn

import typer
from rich.console import Console

from botarena.client.api import ApiError

console = Console(soft_wrap=True)
err_console = Console(stderr=True, soft_wrap=True)


def print_json(value: Any) -> None:
    """One JSON document on stdout, nothing else."""
    typer.echo(json.dumps(value, indent=2, sort_keys=False))


def fail(error: str, message: str | None = None, code: int = 1) -> NoReturn:
    """Print an error sentence (and its detail) on stderr and exit non-zero."""
    err_console.print(f"[bold red]error:[/] {error}", highlight=False)
    if message:
        err_console.print(f"  {message}", highlight=False)
    raise typer.Exit(code)


def fail_api(exc: ApiError) -> NoReturn:
    """Exit with what the server (or the network) said."""
    fail(exc.error, exc.message)
