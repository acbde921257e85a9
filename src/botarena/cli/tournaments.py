"""``botarena tournament start|show|cancel``: run a tournament through the API and read where it
stands: progress, standings with their tie-breaks, and the bracket."""

from __future__ import annotations

import time
from typing import Annotated, Any

import typer
from rich.table import Table

from botarena.cli.output import console, fail_api, print_json
from botarena.cli.remote import JsonOption, ServerOption, api_client, call_api
from botarena.client.api import ApiError

tournament_app = typer.Typer(help="Tournaments: start one (admins) and follow it.")

_POLL_SECONDS = 1.0


@tournament_app.command("start")
def start(
    game: Annotated[str, typer.Option("--game", help="The game, e.g. connectx.")],
    fmt: Annotated[
        str,
        typer.Option("--format", help="round_robin, swiss, single_elimination or free_for_all."),
    ],
    rounds: Annotated[int | None, typer.Option(help="Swiss rounds (default: log2 N).")] = None,
    games_per_pairing: Annotated[int, typer.Option(help="Games each pairing plays.")] = 1,
    submission: Annotated[
        list[str] | None,
        typer.Option(help="Enter this submission (repeat; default: every active one)."),
    ] = None,
    seed: Annotated[int | None, typer.Option(help="Seed of the draw (default: random).")] = None,
    follow: Annotated[
        bool, typer.Option("--follow/--no-follow", help="Follow it to its end.")
    ] = False,
    as_json: JsonOption = False,
    server: ServerOption = None,
) -> None:
    """Start a tournament: the entrants are frozen and the first round is queued."""
    body: dict[str, Any] = {"game": game, "format": fmt, "gamesPerPairing": games_per_pairing}
    if rounds is not None:
        body["rounds"] = rounds
    if submission:
        body["submissionIds"] = submission
    if seed is not None:
        body["seed"] = seed
    try:
        with api_client(server) as client:
            shown = client.request("POST", "/tournaments", json=body)
            if not as_json:
                console.print(
                    f"started tournament {shown['id']} ({shown['format']}, "
                    f"{shown['entrants']} entrants, {shown['rounds']} rounds, "
                    f"seed {shown['seed']})",
                    highlight=False,
                )
            if follow:
                shown = _follow(client, shown, quiet=as_json)
    except ApiError as exc:
        fail_api(exc)
    if as_json:
        print_json(shown)
    elif follow:
        _print(shown)


TournamentId = Annotated[str, typer.Argument(help="The tournament's id.")]


@tournament_app.command("show")
def show(
    tournament_id: TournamentId, as_json: JsonOption = False, server: ServerOption = None
) -> None:
    """Print a tournament: progress, standings with tie-breaks, and its bracket."""
    _ask(server, "GET", f"/tournaments/{tournament_id}", as_json)


@tournament_app.command("cancel")
def cancel(
    tournament_id: TournamentId, as_json: JsonOption = False, server: ServerOption = None
) -> None:
    """Stop a running tournament (admins): its unplayed matches are cancelled."""
    _ask(server, "POST", f"/tournaments/{tournament_id}/cancel", as_json)


def _ask(server: str | None, method: str, path: str, as_json: bool) -> None:
    """One request whose answer is a tournament, printed."""
    shown = call_api(server, lambda client: client.request(method, path))
    if as_json:
        print_json(shown)
    else:
        _print(shown)


def _follow(client: Any, shown: dict[str, Any], *, quiet: bool) -> dict[str, Any]:
    """Print each round as it starts; the tournament once it has finished."""
    announced = 0
    while True:
        if shown["currentRound"] > announced and not quiet:
            announced = shown["currentRound"]
            console.print(f"round {announced} of {shown['rounds']}", highlight=False)
        if shown["status"] != "running":
            return shown
        time.sleep(_POLL_SECONDS)
        shown = client.request("GET", f"/tournaments/{shown['id']}")


def _print(shown: dict[str, Any]) -> None:
    progress = shown["progress"]
    console.print(
        f"{shown['id']}  {shown['game']}  {shown['format']}  {shown['status']}  "
        f"round {progress['currentRound']}/{progress['roundsTotal']}  "
        f"games {progress['gamesDecided']}/{progress['gamesPlanned']}"
        f" ({progress['gamesInFlight']} in flight, {progress['replays']} replayed,"
        f" {progress['gamesVoid']} void)",
        highlight=False,
    )
    names = {s["submissionId"]: f"{s['agentName']} v{s['version']}" for s in shown["standings"]}
    breaks = [b for b in shown["tiebreaks"] if b not in ("points", "seed")]
    table = Table("rank", "entrant", "seed", "points", "W-L-D", "byes", *breaks)
    for line in shown["standings"]:
        table.add_row(
            str(line["rank"]),
            names[line["submissionId"]],
            str(line["seed"]),
            f"{line['points']:g}",
            f"{line['wins']}-{line['losses']}-{line['draws']}",
            str(line["byes"]),
            *(f"{line[b]:g}" for b in breaks),
        )
    console.print(table)
    for round_ in shown["bracket"] or []:
        cells = [
            f"{names.get(p['a'] or '', '?')} v "
            + ("bye" if p["bye"] else names.get(p["b"] or "", "?"))
            + (f" → {names[p['winner']]}" if p["winner"] else "")
            for p in round_["pairings"]
        ]
        console.print(f"round {round_['round']}: " + "; ".join(cells), highlight=False)
