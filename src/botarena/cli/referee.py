"""``botarena referee``: play one match as a program of its own, with each agent reached
through named pipes (the referee container of a Kubernetes match pod runs it);
``botarena referee pipes``: make those pipes (the pod's init step, before any agent starts)."""

from __future__ import annotations

import contextlib
import sys
from pathlib import Path
from typing import Annotated

import typer

from botarena.cli.output import fail

SPEC_ENV = "BOTARENA_REFEREE_SPEC"
DEFAULT_PIPES = Path("/match")
DEFAULT_TERMINATION_LOG = Path("/dev/termination-log")

referee_app = typer.Typer(
    help="Play one match with the agents behind named pipes (a match pod's referee).",
    invoke_without_command=True,
    no_args_is_help=False,
)


@referee_app.callback()
def referee(
    ctx: typer.Context,
    spec: Annotated[
        str,
        typer.Option(envvar=SPEC_ENV, help="The match as JSON: game, configuration, seed, …"),
    ] = "",
    pipes: Annotated[
        Path, typer.Option(help="The shared folder holding each player's p{N}/in, out, err.")
    ] = DEFAULT_PIPES,
    termination_log: Annotated[
        Path, typer.Option(help="Where a short summary of the result is written.")
    ] = DEFAULT_TERMINATION_LOG,
) -> None:
    """Play the match, print its result between delimiter lines on stdout (replay included),
    and write a short summary to the termination log. Exits 0 whenever a result was written,
    even the platform's error; 2 for a spec that cannot be played."""
    if ctx.invoked_subcommand is not None:
        return
    from botarena.executor.match_document import (
        MatchDocumentError,
        RefereeSpec,
        result_lines,
        termination_summary,
    )
    from botarena.executor.pipe_match import play_over_pipes

    try:
        match = RefereeSpec.from_json(spec)
        result = play_over_pipes(match, pipes)
    except (MatchDocumentError, ValueError) as exc:
        _terminate(termination_log, f"bad match spec: {exc}")
        fail(f"bad match spec: {exc}", code=2)
    sys.stdout.write(result_lines(result))
    sys.stdout.flush()
    _terminate(termination_log, termination_summary(result))


@referee_app.command("pipes")
def make_pipes_command(
    players: Annotated[int, typer.Option(help="How many players.", min=1, max=16)] = 2,
    pipes: Annotated[Path, typer.Option(help="The shared folder.")] = DEFAULT_PIPES,
) -> None:
    """Make each player's folder and named pipes in the shared folder (idempotent)."""
    from botarena.executor.pipes import make_pipes

    try:
        make_pipes(pipes, players)
    except OSError as exc:
        fail(f"cannot make the pipes in {pipes}: {exc}")


def _terminate(path: Path, message: str) -> None:
    """Write the termination message where the kubelet reads it; nothing when there is no
    such file (the referee run by hand: the kubelet makes it in a pod)."""
    if not path.is_file():
        return
    with contextlib.suppress(OSError):
        path.write_text(message, encoding="utf-8")
