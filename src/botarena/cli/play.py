"""``botarena play``: one match between local folders (two, or more for a game such as
geese), sandboxed, with no server."""

from __future__ import annotations

import json
import os
import random
from pathlib import Path
from typing import Annotated, Any

import typer

from botarena.cli.output import console, err_console, fail, print_json
from botarena.cli.play_logs import ready_log_dir, show_logs, with_logs, write_logs

RUNTIMES = ("local", "docker")


def play(
    folder_a: Annotated[Path, typer.Argument(help="Player 0's agent folder.")],
    folder_b: Annotated[Path, typer.Argument(help="Player 1's agent folder.")],
    game: Annotated[
        str, typer.Option("--game", help="The game: connectx, tictactoe, rps, geese, …")
    ],
    more: Annotated[
        list[Path] | None,
        typer.Option(
            "--with", help="A further agent folder (player 2, 3, …) for a game such as geese."
        ),
    ] = None,
    seed: Annotated[int | None, typer.Option(help="Seed of the match (default: random).")] = None,
    config: Annotated[
        list[str] | None,
        typer.Option("--config", help="Override a configuration value: KEY=VALUE (repeatable)."),
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print one JSON object.")] = False,
    replay: Annotated[
        Path | None, typer.Option(help="Write the replay (JSON) to this file.")
    ] = None,
    runtime: Annotated[
        str, typer.Option(help="Where agents run: local (bubblewrap) or docker (containers).")
    ] = "local",
    logs: Annotated[
        Path | None,
        typer.Option(help="Write each agent's log to this folder (player-0.log, player-1.log)."),
    ] = None,
) -> None:
    """Play one match between two agent folders (more with --with) on this machine and show
    the result."""
    # Imported here: the other commands start without the engine.
    from botarena.games.base import GameConfigError
    from botarena.games.registry import UnknownGameError, get_game

    if runtime not in RUNTIMES:
        fail(f"Unknown runtime {runtime!r}", f"The runtimes are: {', '.join(RUNTIMES)}.")
    try:
        chosen = get_game(game)
        configuration = chosen.configure(_overrides(config or []))
    except (UnknownGameError, GameConfigError) as exc:
        fail(str(exc))
    folders = [folder_a, folder_b, *(more or [])]
    try:
        chosen.check_player_count(len(folders))
    except ValueError as exc:
        fail(str(exc))
    if logs is not None:
        ready_log_dir(logs)  # before the match: a bad folder costs no match
    match_seed = seed if seed is not None else random.randrange(2**31)  # noqa: S311
    result, names = play_folders(chosen, configuration, folders, match_seed, runtime)
    agent_logs = [agent.log for agent in result.agents]
    if replay is not None:
        recorded = dict(result.replay)
        if "agents" in recorded:
            recorded["agents"] = with_logs(recorded["agents"], agent_logs)
        replay.write_text(json.dumps(recorded, indent=1))
    if as_json:
        summary = result.summary()
        summary["agents"] = with_logs(summary["agents"], agent_logs)
        print_json({**summary, "seed": match_seed})
    else:
        _show(result, chosen, names, match_seed)
        show_logs([str(folder) for folder in folders], agent_logs)
    if logs is not None:
        written = write_logs(logs, agent_logs)
        err_console.print(f"logs written to {', '.join(map(str, written))}", highlight=False)
    if result.status.value != "finished":
        raise typer.Exit(1)


def play_folders(
    game: Any,
    configuration: Any,
    folders: list[Path],
    seed: int,
    runtime: str = "local",
    *,
    code: int = 1,
    trusted: bool = True,
) -> tuple[Any, list[str]]:
    """Play one match between agent folders on this machine, the way ``botarena play`` does:
    the result and the agents' names. Code that is not ``trusted`` (``botarena rerun``: maybe
    someone else's) never runs outside a sandbox: agents are refused without bubblewrap, and
    requirements install in the install sandbox, as the server's builds do, not with this
    machine's pip. Whatever stops the match from starting ends the command with ``code``."""
    from botarena.executor.match import run_match
    from botarena.executor.prepare import PrepareError, prepare_agent
    from botarena.executor.runners.local import LocalRunner
    from botarena.executor.sandbox import SandboxUnavailable

    if runtime == "docker":
        return _play_in_containers(game, configuration, folders, seed, code)
    try:
        # One match gains nothing from a fork server: each agent starts in a fresh sandbox.
        runner = LocalRunner(allow_unsandboxed=trusted, fork_server=False)
    except SandboxUnavailable as exc:
        fail(
            f"this machine cannot sandbox agents: {exc}",
            "Use --runtime docker, or --unsandboxed for code you trust.",
            code,
        )
    with runner:
        installer = None if trusted else _sandboxed_installer()
        agents = []
        for player, folder in enumerate(folders):
            err_console.print(f"preparing player {player}: {folder}", highlight=False)
            try:
                agents.append(
                    prepare_agent(folder, _cache_dir(), on_output=_progress, installer=installer)
                )
            except PrepareError as exc:
                fail(f"{folder}: {exc}", code=code)
        _announce(runner)
        result = run_match(game, configuration, agents, runner, seed=seed)
    return result, [a.name for a in agents]


def _sandboxed_installer() -> Any:
    from botarena.executor.installers import SandboxedInstaller
    from botarena.executor.sandbox import Limits
    from botarena.settings import get_settings

    return SandboxedInstaller(Limits(), egress_allow=get_settings().build_egress_allow)


def _play_in_containers(
    game: Any, configuration: Any, folders: list[Path], seed: int, code: int
) -> tuple[Any, list[str]]:
    """Build each folder into an image with the configured engine, then play in containers."""
    from botarena.builds.images import ImageBuilder, ImageBuildError, local_image_name
    from botarena.executor.match import run_match
    from botarena.executor.prepare import PreparedAgent
    from botarena.executor.runners.docker import DockerRunner, DockerUnavailableError, connect
    from botarena.settings import get_settings

    settings = get_settings()
    try:
        client = connect(settings.docker_host)
    except DockerUnavailableError as exc:
        fail(str(exc), "Start the Docker engine, or set BOTARENA_DOCKER_HOST.", code=code)
    builder = ImageBuilder(
        client, settings.docker_base_image, network=settings.docker_build_network
    )
    agents = []
    for player, folder in enumerate(folders):
        label = f"player {player}"
        if not folder.is_dir():
            fail(f"{folder} is not a folder", code=code)
        reference = f"botarena/play-{local_image_name(folder.resolve())}:latest"
        err_console.print(f"building {label}: {folder} as {reference}", highlight=False)
        try:
            built = builder.build(folder.resolve(), reference, _progress)
        except ImageBuildError as exc:
            fail(f"{folder}: the image did not build: {exc}", code=code)
        agents.append(PreparedAgent.from_image(folder.resolve().name, built.reference))
    runner = DockerRunner(client, runtime=settings.docker_runtime)
    _announce(runner)
    try:
        return run_match(game, configuration, agents, runner, seed=seed), [a.name for a in agents]
    finally:
        client.close()


def _announce(runner: Any) -> None:
    if not runner.sandboxed:
        err_console.print(
            f"[yellow]warning:[/] {runner.isolation}; the agents run with no isolation "
            "(fine for your own code, never for anyone else's)",
            highlight=False,
        )
    else:
        err_console.print(f"isolation: {runner.isolation}", highlight=False)


def _overrides(pairs: list[str]) -> dict[str, Any]:
    values: dict[str, Any] = {}
    for pair in pairs:
        key, sep, raw = pair.partition("=")
        if not sep or not key:
            fail(f"--config takes KEY=VALUE, not {pair!r}")
        try:
            values[key] = json.loads(raw)
        except ValueError:
            values[key] = raw
    return values


def _cache_dir() -> Path:
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "botarena"


def _progress(line: str) -> None:
    err_console.print(f"  {line}", highlight=False, style="dim")


def _show(result: Any, game: Any, names: list[str], seed: int) -> None:
    if result.final_state is not None:
        console.print(game.render(result.final_state), highlight=False)
    if result.status.value != "finished":
        console.print(f"[bold red]match error:[/] {result.error}", highlight=False)
        return
    from botarena.games.base import placements

    # More than two players: each one's place is on its line below.
    places = placements(result.winner, result.scores, len(result.agents))
    if len(result.agents) == 2 and result.winner is None:
        console.print("[bold]draw[/]")
    elif len(result.agents) == 2:
        console.print(f"[bold]winner: player {result.winner} ({names[result.winner]})[/]")
    for player, agent in enumerate(result.agents):
        reason = f": {agent.reason}" if agent.reason else ""
        place = f"place {places[player]}, " if len(result.agents) > 2 else ""
        console.print(f"player {player} ({names[player]}): {place}{agent.status.value}{reason}")
    console.print(
        f"scores {result.scores}, {result.turns} turns, {result.duration_ms} ms, seed {seed}",
        highlight=False,
    )
