"""``botarena competition list|show|join|select|final|freeze``: competitions through the API:
where each stands, its leaderboard, taking part, the team's choice for the final, and the
organiser's final evaluation and freeze."""

from __future__ import annotations

from typing import Annotated, Any

import typer
from rich.table import Table

from botarena.cli.output import console, print_json
from botarena.cli.remote import JsonOption, ServerOption, call_api

competition_app = typer.Typer(help="Competitions: follow them, take part, run their end.")

CompetitionRef = Annotated[str, typer.Argument(help="The competition's id or address (slug).")]


@competition_app.command("list")
def list_(as_json: JsonOption = False, server: ServerOption = None) -> None:
    """The competitions you may see, with their phase and next date."""
    shown = call_api(server, lambda client: client.request("GET", "/competitions"))
    if as_json:
        print_json(shown)
        return
    table = Table("address", "title", "game", "phase", "next")
    for row in shown:
        upcoming = f"{row['nextDateLabel']} {row['nextDate']}" if row["nextDate"] else ""
        table.add_row(row["slug"], row["title"], row["game"], row["phase"], upcoming)
    console.print(table)


@competition_app.command("show")
def show(ref: CompetitionRef, as_json: JsonOption = False, server: ServerOption = None) -> None:
    """A competition, its dates and limits, and its leaderboard (or final standings)."""

    def ask(client: Any) -> dict[str, Any]:
        competition = client.request("GET", f"/competitions/{ref}")
        board = client.request("GET", f"/competitions/{ref}/leaderboard")
        return {"competition": competition, "leaderboard": board}

    shown = call_api(server, ask)
    if as_json:
        print_json(shown)
        return
    c, board = shown["competition"], shown["leaderboard"]
    console.print(f"{c['title']}  ({c['slug']}, {c['game']})  {c['phase']}", highlight=False)
    for label, key in (
        ("opens", "opensAt"),
        ("deadline", "deadlineAt"),
        ("final ends", "finalEndsAt"),
    ):
        if c[key]:
            console.print(f"{label}: {c[key]}", highlight=False)
    title = "final standings" if board["frozen"] else "final" if board["final"] else "leaderboard"
    table = Table("rank", "agent", "team", "mu", "sigma", "score", "games", title=title)
    for r in board["items"]:
        table.add_row(
            str(r["rank"]),
            f"{r['agentName']} v{r['version']}",
            r["teamName"] or "",
            f"{r['mu']:.2f}",
            f"{r['sigma']:.2f}",
            f"{r['score']:.2f}",
            str(r["games"]),
        )
    console.print(table)


@competition_app.command("join")
def join(
    ref: CompetitionRef,
    code: Annotated[str | None, typer.Option(help="An invite-only competition's code.")] = None,
    as_json: JsonOption = False,
    server: ServerOption = None,
) -> None:
    """Take part: your team there (a one-person team when you have none)."""
    body = {"code": code} if code else {}
    shown = call_api(
        server, lambda client: client.request("POST", f"/competitions/{ref}/join", json=body)
    )
    if as_json:
        print_json(shown)
    else:
        console.print(f"in competition {ref} as team {shown['teamId']}", highlight=False)


@competition_app.command("select")
def select(
    ref: CompetitionRef,
    submission: Annotated[
        list[str] | None, typer.Argument(help="Your team's submissions for the final.")
    ] = None,
    as_json: JsonOption = False,
    server: ServerOption = None,
) -> None:
    """Choose your team's submissions for the final (none: its newest active ones)."""
    body = {"submissionIds": submission or []}
    shown = call_api(
        server,
        lambda client: client.request("PUT", f"/competitions/{ref}/selection", json=body),
    )
    if as_json:
        print_json(shown)
    else:
        plays = ", ".join(shown["effectiveSubmissionIds"]) or "nothing yet"
        console.print(f"for the final: {plays}", highlight=False)


@competition_app.command("final")
def final(
    ref: CompetitionRef,
    rounds: Annotated[
        int,
        typer.Option(
            help="Times each pair meets in each seat (for a game of more players: rounds of "
            "free-for-all)."
        ),
    ] = 1,
    as_json: JsonOption = False,
    server: ServerOption = None,
) -> None:
    """Start the final evaluation (admins, after the deadline)."""
    body = {"rounds": rounds}
    path = f"/competitions/{ref}/final-evaluation"
    shown = call_api(server, lambda client: client.request("POST", path, json=body))
    if as_json:
        print_json(shown)
    else:
        console.print(
            f"final evaluation of {shown['slug']} started: tournament {shown['finalTournamentId']}",
            highlight=False,
        )


@competition_app.command("freeze")
def freeze(ref: CompetitionRef, as_json: JsonOption = False, server: ServerOption = None) -> None:
    """Freeze the standings now (admins)."""
    path = f"/competitions/{ref}/freeze"
    shown = call_api(server, lambda client: client.request("POST", path))
    if as_json:
        print_json(shown)
    else:
        console.print(f"{shown['slug']} is frozen", highlight=False)
