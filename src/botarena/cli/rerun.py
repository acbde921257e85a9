"""``botarena rerun MATCH``: a finished match played again on this machine, from the server's
record of it (seed, configuration, each seat's code), and compared with its replay step by step.

Exit codes: 0 when the result and every move are the same, 1 when they differ, 2 when the
match could not be re-run (refused by the server, code that does not build, …).
"""

from __future__ import annotations

import hashlib
import json
import tempfile
from pathlib import Path
from typing import Annotated, Any

import typer

from botarena.cli.output import console, err_console, fail, print_json
from botarena.cli.remote import JsonOption, ServerOption, api_client
from botarena.client.api import ApiClient, ApiError

SAME = 0
DIFFERENT = 1
FAILED = 2


def rerun(
    match_id: Annotated[str, typer.Argument(help="The finished match to play again (mat-…).")],
    runtime: Annotated[
        str, typer.Option(help="Where agents run: local (bubblewrap) or docker (containers).")
    ] = "local",
    replay: Annotated[
        Path | None, typer.Option(help="Write the new replay (JSON) to this file.")
    ] = None,
    unsandboxed: Annotated[
        bool,
        typer.Option(
            "--unsandboxed",
            help="Code you trust: install with this machine's pip, and run the agents without "
            "a sandbox where this machine has none (as 'botarena play').",
        ),
    ] = False,
    as_json: JsonOption = False,
    server: ServerOption = None,
) -> None:
    """Play a finished match again here, with its seed, configuration and both submissions'
    code, and say whether the result and every move are the same (exit 0), or the first step
    where they differ (exit 1); exit 2 when it cannot be re-run.

    Only admins, and whoever may download both submissions, may re-run a match. The code is
    downloaded as source, its requirements installed in the install sandbox as the server's
    builds do, and played in the local sandbox (or in containers with --runtime docker).
    """
    from botarena.cli.play import RUNTIMES, play_folders
    from botarena.games.base import GameConfigError
    from botarena.games.registry import UnknownGameError, get_game
    from botarena.games.replay_diff import first_difference

    if runtime not in RUNTIMES:
        fail(f"Unknown runtime {runtime!r}", f"The runtimes are: {', '.join(RUNTIMES)}.", FAILED)
    with tempfile.TemporaryDirectory(prefix="botarena-rerun-") as scratch:
        try:
            with api_client(server) as client:
                plan = client.rerun(match_id)
                recorded = client.replay(match_id)
                folders = [_download(client, seat, Path(scratch)) for seat in plan["players"]]
        except ApiError as exc:
            fail(exc.error, exc.message, FAILED)
        try:
            game = get_game(plan["game"])
            configuration = game.configure(plan["configuration"])
        except (UnknownGameError, GameConfigError) as exc:
            fail(f"cannot play match {match_id} here: {exc}", code=FAILED)
        _say(f"playing match {match_id} again: {plan['game']}, seed {plan['seed']}")
        result, _ = play_folders(
            game,
            configuration,
            folders,
            int(plan["seed"]),
            runtime,
            code=FAILED,
            trusted=unsandboxed,
        )
    if result.status.value != "finished":
        fail(f"the match did not finish here: {result.error}", code=FAILED)
    replayed = dict(result.replay)
    if replay is not None:
        replay.write_text(json.dumps(replayed, indent=1))
    difference = first_difference(recorded, replayed)
    if as_json:
        print_json(
            {
                "matchId": match_id,
                "identical": difference is None,
                "difference": difference.as_json() if difference else None,
                "recorded": _result_of(recorded),
                "replayed": _result_of(replayed),
            }
        )
    else:
        _report(plan, recorded, replayed, difference)
    raise typer.Exit(SAME if difference is None else DIFFERENT)


def _download(client: ApiClient, seat: dict[str, Any], scratch: Path) -> Path:
    """Download a seat's source and unpack it into its own folder; a stored archive is checked
    against the SHA-256 the server recorded at upload."""
    from botarena.settings import get_settings
    from botarena.sources.archives import (
        ArchiveError,
        ArchiveFormat,
        ArchiveLimits,
        extract_archive,
    )

    player = seat["player"]
    fmt: ArchiveFormat = "zip" if seat["archiveFormat"] == "zip" else "tar.gz"
    archive = scratch / f"player-{player}.{fmt}"
    where = f"{seat['codeUrl']} at {seat['commitSha']}" if seat["sourceKind"] == "git" else ""
    _say(
        f"downloading player {player}'s code: {seat['agentName']} v{seat['version']} "
        f"({seat['submissionId']}{', ' + where if where else ''})"
    )
    size = client.download(seat["sourcePath"], archive)
    if seat["archiveSha256"]:
        digest = hashlib.sha256(archive.read_bytes()).hexdigest()
        if digest != seat["archiveSha256"]:
            fail(
                f"player {player}'s archive is not the one uploaded",
                f"sha256 {digest}, the server recorded {seat['archiveSha256']}",
                FAILED,
            )
    _say(f"  {size} bytes" + (", sha256 checked" if seat["archiveSha256"] else ""))
    settings = get_settings()
    limits = ArchiveLimits(
        max_bytes=settings.archive_max_bytes,
        max_files=settings.archive_max_files,
        max_unpacked_bytes=settings.archive_max_unpacked_bytes,
    )
    folder = scratch / f"player-{player}"
    try:
        extract_archive(archive, fmt, folder, limits)
    except ArchiveError as exc:
        fail(f"player {player}'s code does not unpack: {exc}", code=FAILED)
    return folder


def _report(
    plan: dict[str, Any], recorded: dict[str, Any], replayed: dict[str, Any], difference: Any
) -> None:
    names = [seat["agentName"] for seat in plan["players"]]
    console.print(f"recorded: {_in_words(recorded, names)}", highlight=False)
    console.print(f"replayed: {_in_words(replayed, names)}", highlight=False)
    if difference is None:
        steps = max(len(recorded.get("steps") or []) - 1, 0)
        console.print(
            f"[bold green]identical[/]: the same result and all {steps} moves", highlight=False
        )
        return
    where = f"at step {difference.step}" if difference.step is not None else "outside the steps"
    console.print(f"[bold red]different[/] {where}: {difference.what}", highlight=False)
    console.print(f"  recorded: {_shown(difference.recorded)}", highlight=False, markup=False)
    console.print(f"  replayed: {_shown(difference.replayed)}", highlight=False, markup=False)


def _in_words(replay: dict[str, Any], names: list[str]) -> str:
    winner = replay.get("winner")
    said = "draw" if winner is None else f"winner player {winner} ({names[winner]})"
    steps = max(len(replay.get("steps") or []) - 1, 0)
    return f"{said}, scores {replay.get('scores')}, {steps} moves"


def _shown(value: Any) -> str:
    if isinstance(value, dict) and all(key.isdigit() for key in value):
        return ", ".join(f"player {key}: {json.dumps(v)}" for key, v in sorted(value.items()))
    return json.dumps(value)


def _result_of(replay: dict[str, Any]) -> dict[str, Any]:
    return {
        "winner": replay.get("winner"),
        "scores": replay.get("scores"),
        "steps": max(len(replay.get("steps") or []) - 1, 0),
    }


def _say(line: str) -> None:
    err_console.print(line, highlight=False)
