"""Commands that talk to a running server over HTTP: login, agent, submit, status, logs."""

from __future__ import annotations

import re
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Annotated, Any, TypeVar

import typer
from rich.table import Table

from botarena.cli.output import console, fail, fail_api, print_json
from botarena.client.api import ApiClient, ApiError
from botarena.client.config import ClientConfig, ConfigError, load_config, save_config
from botarena.sources.archives import pack_folder

JsonOption = Annotated[bool, typer.Option("--json", help="Print machine-readable JSON.")]
ServerOption = Annotated[
    str | None, typer.Option("--server", help="Server URL (default: BOTARENA_SERVER or config).")
]

FollowBuildOption = Annotated[
    bool, typer.Option("--follow/--no-follow", help="Follow the build to its end.")
]

agent_app = typer.Typer(help="Manage agents.", no_args_is_help=True)

T = TypeVar("T")


def api_client(server: str | None = None) -> ApiClient:
    """A client of the server named by ``--server``, the environment or the config file."""
    try:
        return ApiClient(load_config(server))
    except ConfigError as exc:
        fail(str(exc))


def call_api(server: str | None, ask: Callable[[ApiClient], T]) -> T:
    """One exchange with the server; an error it answers (or cannot be reached) ends the
    command with its message."""
    try:
        with api_client(server) as client:
            return ask(client)
    except ApiError as exc:
        fail_api(exc)


def login(
    server: Annotated[str, typer.Option("--server", help="The botarena server's URL.")],
    username: Annotated[str | None, typer.Option(help="Asked for when absent.")] = None,
) -> None:
    """Sign in with a username and password and keep the token in the config file."""
    if not re.match(r"^https?://", server):
        fail("--server must be an http:// or https:// URL", f"got {server!r}")
    name = username or typer.prompt("Username")
    password: str = typer.prompt("Password", hide_input=True)
    anonymous = ClientConfig(server=server.rstrip("/"), token=None)
    try:
        with ApiClient(anonymous) as client:
            created = client.create_token(name, password)
    except ApiError as exc:
        fail_api(exc)
    path = save_config(ClientConfig(server=anonymous.server, token=created["token"]))
    expires = created.get("expiresAt")
    until = f"expires {expires[:16].replace('T', ' ')} UTC" if expires else "never expires"
    console.print(
        f"signed in to {anonymous.server} as {name}; token saved in {path} ({until}; "
        "renew it with 'botarena token renew')",
        highlight=False,
    )


@agent_app.command("create")
def agent_create(
    name: Annotated[str, typer.Argument(help="A unique agent name.")],
    game: Annotated[str, typer.Option("--game", help="The game it plays, e.g. connectx.")],
    as_json: JsonOption = False,
    server: ServerOption = None,
) -> None:
    """Register a new agent."""
    agent = call_api(server, lambda client: client.create_agent(name, game))
    if as_json:
        print_json(agent)
    else:
        console.print(f"created agent {agent['name']} ({agent['id']}) for {agent['game']}")


def submit(
    source: Annotated[str, typer.Argument(help="A Git URL, or a folder to pack and upload.")],
    agent: Annotated[str, typer.Option("--agent", help="The agent's name.")],
    ref: Annotated[str | None, typer.Option(help="Branch, tag or commit (Git URLs).")] = None,
    follow: FollowBuildOption = True,
    as_json: JsonOption = False,
    server: ServerOption = None,
) -> None:
    """Submit a new version of an agent's code and follow its build (exit 1 if it fails)."""
    folder = Path(source)
    try:
        with api_client(server) as client:
            agent_id = client.agent_by_name(agent)["id"]
            if folder.is_dir():
                if ref:
                    fail("--ref applies to Git URLs only")
                created = _upload_folder(client, agent_id, folder)
            elif "://" in source:
                created = client.submit_url(agent_id, source, ref)
            else:
                fail(f"{source} is neither a folder nor a URL")
    except ApiError as exc:
        fail_api(exc)
    sub = created["submission"]
    if not as_json:
        console.print(
            f"submitted {sub['id']} (version {sub['version']}) for agent {agent}: {sub['status']}"
        )
    final = _follow(server, sub["id"], quiet=as_json) if follow else None
    if as_json:
        print_json({**created, "build": final} if final is not None else created)
    if final is not None and final["status"] not in ("success", "active"):
        raise typer.Exit(1)


def _follow(server: str | None, submission_id: str, *, quiet: bool) -> dict[str, Any]:
    """Print the build's status changes and log lines as they come; its final build status."""
    try:
        with api_client(server) as client:
            for event in client.events(submission_id):
                if quiet:
                    continue
                if event["type"] == "status":
                    console.print(f"[bold]{event['status']}[/]  {event['at']}", highlight=False)
                else:
                    console.print(f"  {event['line']}", highlight=False, markup=False)
            final = client.build_status(submission_id)
    except ApiError as exc:
        fail_api(exc)
    if not quiet:
        if final["status"] == "success":
            console.print(f"[green]build succeeded[/]: {submission_id}")
        else:
            console.print(f"[red]build {final['status']}[/]: {final.get('errorMessage')}")
    return final


def rebuild(
    submission: Annotated[str, typer.Argument(help="The submission id (sub-…).")],
    follow: FollowBuildOption = True,
    as_json: JsonOption = False,
    server: ServerOption = None,
) -> None:
    """Build a submission again (one that failed, or an older one)."""
    result = call_api(server, lambda client: client.rebuild(submission))
    if not as_json:
        console.print(f"rebuilding {submission}: {result['status']}")
    final = _follow(server, submission, quiet=as_json) if follow else None
    if as_json:
        print_json(final if final is not None else result)
    if final is not None and final["status"] not in ("success", "active"):
        raise typer.Exit(1)


def _upload_folder(client: ApiClient, agent_id: str, folder: Path) -> dict[str, Any]:
    with tempfile.TemporaryDirectory(prefix="botarena-submit-") as tmp:
        archive = Path(tmp) / f"{folder.resolve().name or 'agent'}.tar.gz"
        with archive.open("wb") as out:
            files = pack_folder(folder, out)
        if files == 0:
            fail(f"{folder} has no files to submit")
        return client.submit_archive(agent_id, archive)


def status(
    submission: Annotated[str, typer.Argument(help="The submission id (sub-…).")],
    as_json: JsonOption = False,
    server: ServerOption = None,
) -> None:
    """Show where a submission's build stands."""
    build = call_api(server, lambda client: client.build_status(submission))
    if as_json:
        print_json(build)
        return
    table = Table(show_header=False, box=None)
    for label, key in (
        ("submission", "submissionId"),
        ("status", "status"),
        ("queue position", "queuePosition"),
        ("image", "dockerImageUrl"),
        ("error", "errorMessage"),
        ("updated", "updatedAt"),
    ):
        if build.get(key) is not None:
            table.add_row(label, str(build[key]))
    console.print(table)
    for warning in build.get("warnings") or []:
        console.print(f"[yellow]warning:[/] {warning}", highlight=False)
    console.print("history:")
    for change in build["statusHistory"]:
        console.print(f"  {change['at']}  {change['status']}", highlight=False)


def logs(
    submission: Annotated[str, typer.Argument(help="The submission id (sub-…).")],
    follow: Annotated[
        bool, typer.Option("--follow", "-f", help="Keep printing until the build ends.")
    ] = False,
    as_json: JsonOption = False,
    server: ServerOption = None,
) -> None:
    """Print a submission's build log (yours, or any as an admin)."""
    if follow:
        _follow_log(server, submission)
        return
    result = call_api(server, lambda client: client.build_logs(submission))
    if as_json:
        print_json(result)
    else:
        typer.echo(result["buildLog"], nl=not result["buildLog"].endswith("\n"))


def _follow_log(server: str | None, submission_id: str) -> None:
    try:
        with api_client(server) as client:
            for event in client.events(submission_id):
                if event["type"] == "log":
                    typer.echo(event["line"])
    except ApiError as exc:
        fail_api(exc)


def leaderboard(
    game: Annotated[str, typer.Option("--game", help="The game, e.g. connectx.")],
    as_json: JsonOption = False,
    server: ServerOption = None,
) -> None:
    """Print a game's leaderboard: every active submission, best first."""
    board = call_api(
        server, lambda client: client.request("GET", "/leaderboard", params={"game": game})
    )
    if as_json:
        print_json(board)
        return
    table = Table("rank", "agent", "version", "score", "mu", "sigma", "games", "W-L-D")
    for row in board["items"]:
        table.add_row(
            str(row["rank"]),
            row["agentName"],
            str(row["version"]),
            f"{row['score']:.2f}",
            f"{row['mu']:.2f}",
            f"{row['sigma']:.2f}",
            str(row["games"]),
            f"{row['wins']}-{row['losses']}-{row['draws']}",
        )
    console.print(table)
