"""``botarena audit``: read the audit log (admins), through the server's API."""

from __future__ import annotations

import json
from typing import Annotated, Any

import typer
from rich.table import Table

from botarena.cli.output import console, print_json
from botarena.cli.remote import JsonOption, ServerOption, call_api


def audit(
    action: Annotated[
        str | None, typer.Option(help="Only this action, e.g. token.created or ladder.paused.")
    ] = None,
    actor: Annotated[str | None, typer.Option(help="Only this actor's name.")] = None,
    target: Annotated[str | None, typer.Option(help="Only entries about this id.")] = None,
    since: Annotated[str | None, typer.Option(help="From this time (ISO 8601, UTC).")] = None,
    until: Annotated[str | None, typer.Option(help="Before this time (ISO 8601, UTC).")] = None,
    limit: Annotated[int, typer.Option(min=1, max=500, help="Entries to show.")] = 50,
    offset: Annotated[int, typer.Option(min=0, help="Entries to skip.")] = 0,
    as_json: JsonOption = False,
    server: ServerOption = None,
) -> None:
    """Print the audit log, newest first (admins only)."""
    params: dict[str, Any] = {"limit": limit, "offset": offset}
    for key, value in (
        ("action", action),
        ("actor", actor),
        ("targetId", target),
        ("since", since),
        ("until", until),
    ):
        if value is not None:
            params[key] = value
    page = call_api(server, lambda client: client.request("GET", "/audit", params=params))
    if as_json:
        print_json(page)
        return
    table = Table("at", "actor", "action", "target", "from", "details")
    for entry in page["items"]:
        table.add_row(
            entry["at"][:19].replace("T", " "),
            entry["actor"],
            entry["action"],
            entry["targetId"] or "",
            entry["clientAddress"] or "",
            json.dumps(entry["details"], separators=(",", ":")),
        )
    console.print(table)
    shown = len(page["items"])
    console.print(f"{shown} of {page['total']} entries (offset {page['offset']})", highlight=False)
