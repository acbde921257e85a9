"""``botarena webhook list|add|remove|test|rotate-secret|deliveries``: your webhooks and their
delivery log, through the server's API (docs/notifications.md)."""

from __future__ import annotations

from typing import Annotated, Any

import typer
from rich.table import Table

from botarena.cli.output import console, print_json
from botarena.cli.remote import JsonOption, ServerOption, call_api

webhook_app = typer.Typer(
    help="Your webhooks: list, add, remove, test, rotate their secret, read deliveries.",
    no_args_is_help=True,
)

_BASE = "/notifications/webhooks"
IdArgument = Annotated[str, typer.Argument(help="The webhook's id (whk-…).")]


@webhook_app.command("list")
def list_webhooks(as_json: JsonOption = False, server: ServerOption = None) -> None:
    """List your webhooks (never their secrets)."""
    hooks: list[dict[str, Any]] = call_api(server, lambda client: client.request("GET", _BASE))
    if as_json:
        print_json(hooks)
        return
    table = Table("id", "url", "events", "state")
    for hook in hooks:
        state = "on" if hook["enabled"] else f"off {hook['disabledReason'] or ''}".strip()
        table.add_row(hook["id"], hook["url"], ", ".join(hook["events"]), state)
    console.print(table)


@webhook_app.command("add")
def add(
    url: Annotated[str, typer.Argument(help="The https:// URL that receives the events.")],
    event: Annotated[
        list[str],
        typer.Option("--event", "-e", help="An event to send (repeat): build.finished, …"),
    ],
    description: Annotated[str, typer.Option(help="A note of yours.")] = "",
    as_json: JsonOption = False,
    server: ServerOption = None,
) -> None:
    """Add a webhook; its signing secret is printed this once."""
    body = {"url": url, "events": event, "description": description}
    made: dict[str, Any] = call_api(server, lambda c: c.request("POST", _BASE, json=body))
    _print_secret(made, as_json)


@webhook_app.command("rotate-secret")
def rotate(
    webhook_id: IdArgument, as_json: JsonOption = False, server: ServerOption = None
) -> None:
    """Give a webhook a new signing secret, printed this once; the old one stops at once."""
    path = f"{_BASE}/{webhook_id}/rotate-secret"
    _print_secret(call_api(server, lambda c: c.request("POST", path)), as_json)


@webhook_app.command("remove")
def remove(webhook_id: IdArgument, server: ServerOption = None) -> None:
    """Remove a webhook and its delivery log."""
    call_api(server, lambda client: client.request("DELETE", f"{_BASE}/{webhook_id}"))
    console.print(f"removed {webhook_id}", highlight=False)


@webhook_app.command("test")
def send_test(webhook_id: IdArgument, server: ServerOption = None) -> None:
    """Queue a test event (ping) to a webhook; 'botarena webhook deliveries' shows how it went."""
    path = f"{_BASE}/{webhook_id}/test"
    queued: dict[str, Any] = call_api(server, lambda client: client.request("POST", path))
    console.print(f"queued {queued['id']}", highlight=False)


@webhook_app.command("deliveries")
def deliveries(
    webhook_id: Annotated[str | None, typer.Option("--webhook", help="One webhook's.")] = None,
    limit: Annotated[int, typer.Option(min=1, max=500)] = 20,
    as_json: JsonOption = False,
    server: ServerOption = None,
) -> None:
    """Your latest deliveries (webhooks and e-mails), newest first."""
    params: dict[str, Any] = {"limit": limit}
    if webhook_id:
        params["webhookId"] = webhook_id
    page: dict[str, Any] = call_api(
        server, lambda c: c.request("GET", "/notifications/deliveries", params=params)
    )
    if as_json:
        print_json(page["items"])
        return
    table = Table("id", "made", "event", "status", "attempts", "http", "last error")
    for item in page["items"]:
        table.add_row(
            item["id"],
            item["createdAt"][:16].replace("T", " "),
            item["event"],
            item["status"],
            str(item["attempts"]),
            str(item["lastStatusCode"] or ""),
            item["lastError"] or "",
        )
    console.print(table)


def _print_secret(made: dict[str, Any], as_json: bool) -> None:
    if as_json:
        print_json(made)
        return
    console.print(f"webhook {made['id']} → {made['url']}", highlight=False)
    console.print(f"signing secret (shown this once): {made['secret']}", highlight=False)
