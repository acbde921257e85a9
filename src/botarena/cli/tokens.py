"""``botarena token list|revoke|renew``: your API tokens, through the server's API."""

from __future__ import annotations

import os
from typing import Annotated, Any

import typer
from rich.table import Table

from botarena.cli.output import console, err_console, fail, fail_api, print_json
from botarena.cli.remote import JsonOption, ServerOption, call_api
from botarena.client.api import ApiClient, ApiError
from botarena.client.config import ClientConfig, ConfigError, load_config, save_config

token_app = typer.Typer(help="Your API tokens: list, revoke, renew.", no_args_is_help=True)

_PAGE = 500


@token_app.command("list")
def list_tokens(as_json: JsonOption = False, server: ServerOption = None) -> None:
    """List your tokens (never their secrets); * marks the one this command uses."""
    tokens = call_api(server, _all_tokens)
    if as_json:
        print_json(tokens)
        return
    table = Table("", "id", "name", "created", "last used", "expires", "state")
    for token in tokens:
        table.add_row(
            "*" if token["current"] else "",
            token["id"],
            token["name"] or "",
            _when(token["createdAt"]),
            _when(token["lastUsedAt"]) or "never",
            _when(token["expiresAt"]) or "never",
            _state(token),
        )
    console.print(table)


@token_app.command("revoke")
def revoke(
    token_id: Annotated[str, typer.Argument(help="The token's id (tok-…).")],
    server: ServerOption = None,
) -> None:
    """Revoke one of your tokens; it stops working at once."""
    call_api(server, lambda client: client.request("DELETE", f"/auth/tokens/{token_id}"))
    console.print(f"revoked {token_id}", highlight=False)


@token_app.command("renew")
def renew(
    days: Annotated[
        int | None,
        typer.Option(
            "--days", min=1, max=3650, help="Days the new token lasts (default: the server's)."
        ),
    ] = None,
    server: ServerOption = None,
) -> None:
    """Replace the token in the config file with a new one and revoke the old one."""
    if os.environ.get("BOTARENA_TOKEN"):
        fail(
            "BOTARENA_TOKEN is set",
            "Renewing would revoke the token your environment uses; unset it and use the "
            "config file ('botarena login'), or make a token with the API.",
        )
    try:
        config = load_config(server)
    except ConfigError as exc:
        fail(str(exc))
    if not config.token:
        fail("Not signed in", "Run 'botarena login --server URL' first.")
    try:
        with ApiClient(config) as client:
            old = next((t for t in _all_tokens(client) if t["current"]), None)
            body: dict[str, Any] = {"name": old["name"]} if old and old["name"] else {}
            if days is not None:
                body["expiresInDays"] = days
            created: dict[str, Any] = client.request("POST", "/me/tokens", json=body)
    except ApiError as exc:
        fail_api(exc)
    renewed = ClientConfig(server=config.server, token=created["token"])
    path = save_config(renewed)
    console.print(
        f"new token {created['id']} saved in {path}; it expires "
        f"{_when(created['expiresAt']) or 'never'}",
        highlight=False,
    )
    if old is None:
        return
    try:
        with ApiClient(renewed) as client:
            client.request("DELETE", f"/auth/tokens/{old['id']}")
    except ApiError as exc:
        err_console.print(
            f"[yellow]warning:[/] the old token {old['id']} is still active ({exc.error}); "
            f"revoke it with 'botarena token revoke {old['id']}'",
            highlight=False,
        )
        raise typer.Exit(1) from exc
    console.print(f"revoked the old token {old['id']}", highlight=False)


def _all_tokens(client: ApiClient) -> list[dict[str, Any]]:
    tokens: list[dict[str, Any]] = []
    while True:
        page = client.request("GET", "/auth/tokens", params={"limit": _PAGE, "offset": len(tokens)})
        tokens.extend(page["items"])
        if not page["items"] or len(tokens) >= page["total"]:
            return tokens


def _when(moment: str | None) -> str:
    # "2027-03-07T12:00:00.123+00:00" -> "2027-03-07 12:00"
    return moment[:16].replace("T", " ") if moment else ""


def _state(token: dict[str, Any]) -> str:
    if token["revokedAt"]:
        return "revoked"
    return "active" if token["active"] else "expired"
