"""``botarena team create|join|leave|show|invite``: your teams, through the server's API."""

from __future__ import annotations

from typing import Annotated, Any
from urllib.parse import parse_qs, urlsplit

import typer
from rich.table import Table

from botarena.cli.output import console, print_json
from botarena.cli.remote import JsonOption, ServerOption, call_api

team_app = typer.Typer(
    help="Your teams: create one, join with an invite code, leave, show, new invite code.",
    no_args_is_help=True,
)

TeamArgument = Annotated[str, typer.Argument(help="The team's id (tea-…).")]


@team_app.command("create")
def create(
    name: Annotated[str, typer.Argument(help="The team's name, unique in the competition.")],
    competition: Annotated[
        str, typer.Option("--competition", help="The competition's id (cmp-…).")
    ],
    as_json: JsonOption = False,
    server: ServerOption = None,
) -> None:
    """Make a team with you as its owner; its invite code is printed this once."""
    path = f"/competitions/{competition}/teams"
    base, made = call_api(
        server, lambda c: (c.server, c.request("POST", path, json={"name": name}))
    )
    _print_code(base, made, as_json)


@team_app.command("join")
def join(
    code: Annotated[str, typer.Argument(help="The invite code, or the whole invite link.")],
    as_json: JsonOption = False,
    server: ServerOption = None,
) -> None:
    """Join the team of an invite code."""
    body = {"code": _code_of(code)}
    team: dict[str, Any] = call_api(server, lambda c: c.request("POST", "/teams/join", json=body))
    if as_json:
        print_json(team)
        return
    console.print(f"joined team {team['name']} ({team['id']})", highlight=False)


@team_app.command("leave")
def leave(team_id: TeamArgument, server: ServerOption = None) -> None:
    """Leave a team (the last member of a team that owns agents cannot)."""
    call_api(server, lambda c: c.request("POST", f"/teams/{team_id}/leave"))
    console.print(f"left team {team_id}", highlight=False)


@team_app.command("invite")
def invite(team_id: TeamArgument, as_json: JsonOption = False, server: ServerOption = None) -> None:
    """A new invite code for the team, printed this once; the previous one stops working."""
    path = f"/teams/{team_id}/invite-code"
    base, made = call_api(server, lambda c: (c.server, c.request("POST", path)))
    _print_code(base, made, as_json)


@team_app.command("show")
def show(
    team_id: Annotated[
        str | None, typer.Argument(help="The team's id; without it, the teams you are in.")
    ] = None,
    as_json: JsonOption = False,
    server: ServerOption = None,
) -> None:
    """A team's members and agents, or the teams you are in."""
    if team_id is None:
        mine: list[dict[str, Any]] = call_api(server, lambda c: c.request("GET", "/teams/mine"))
        if as_json:
            print_json(mine)
            return
        table = Table("id", "name", "competition", "members")
        for row in mine:
            names = ", ".join(m["username"] for m in row["members"])
            table.add_row(row["id"], row["name"], row["competitionId"], names)
        console.print(table)
        return
    team: dict[str, Any] = call_api(server, lambda c: c.request("GET", f"/teams/{team_id}"))
    if as_json:
        print_json(team)
        return
    console.print(f"team {team['name']} ({team['id']})", highlight=False)
    for member in team["members"]:
        role = " (owner)" if member["role"] == "owner" else ""
        console.print(f"  member {member['username']}{role}", highlight=False)
    for agent in team["agents"]:
        console.print(f"  agent {agent['name']} ({agent['id']})", highlight=False)


def _code_of(given: str) -> str:
    """The code itself, also out of a whole invite link (``…/teams/join?code=…``)."""
    if "?" in given:
        found = parse_qs(urlsplit(given).query).get("code")
        if found:
            return found[0]
    return given.strip()


def _print_code(server: str, made: dict[str, Any], as_json: bool) -> None:
    if as_json:
        print_json(made)
        return
    team = made["team"]
    console.print(f"team {team['name']} ({team['id']})", highlight=False)
    console.print(f"invite code (shown this once): {made['inviteCode']}", highlight=False)
    console.print(f"invite link: {server.rstrip('/')}{made['invitePath']}", highlight=False)
