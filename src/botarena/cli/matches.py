"""``botarena match`` and ``botarena replay``: matches through the API, followed to the end;
``botarena match cancel MATCH_ID`` cancels one."""

from __future__ import annotations

import time
from typing import Annotated, Any

import typer

from botarena.cli.output import console, fail, fail_api, print_json
from botarena.cli.remote import JsonOption, ServerOption, api_client, call_api
from botarena.client.api import ApiError

_POLL_SECONDS = 0.3
_ENDED = ("finished", "error", "cancelled")
# ``botarena match cancel MATCH_ID``: the word in the first agent's place.
_CANCEL = "cancel"


def match(
    agent1: Annotated[
        str, typer.Argument(help="Player 0: an agent's name or id; or 'cancel' (see below).")
    ],
    agent2: Annotated[
        str, typer.Argument(help="Player 1: an agent's name or id; after 'cancel', a match id.")
    ],
    game: Annotated[str | None, typer.Option(help="The game (default: the agents').")] = None,
    more: Annotated[
        list[str] | None,
        typer.Option(
            "--with",
            help="A further player (seat 2, 3, …) for a game of more than two, e.g. geese; "
            "repeat it for each.",
        ),
    ] = None,
    seed: Annotated[int | None, typer.Option(help="Seed of the match (default: random).")] = None,
    follow: Annotated[
        bool, typer.Option("--follow/--no-follow", help="Follow the match to its end.")
    ] = True,
    as_json: JsonOption = False,
    server: ServerOption = None,
) -> None:
    """Queue a match between two agents (more with --with) and follow it (exit 1 if it ends
    in error).

    ``botarena match cancel MATCH_ID`` cancels a queued or running match instead (its creator
    or an admin): a running one is stopped on its executor. (An agent named "cancel" is
    played by its id.)
    """
    if agent1 == _CANCEL:
        if game is not None or seed is not None or more:
            fail("--game and --seed do not go with cancel", "Run: botarena match cancel MATCH_ID")
        cancel(agent2, as_json=as_json, server=server)
        return
    body: dict[str, Any] = {}
    if game:
        body["game"] = game
    if seed is not None:
        body["seed"] = seed
    try:
        with api_client(server) as client:
            names = [agent1, agent2, *(more or [])]
            ids = [client.agent_id(name) for name in names]
            if more:
                body["agentIds"] = ids
            else:
                body.update(agent1Id=ids[0], agent2Id=ids[1])
            created = client.create_match(body)
            if not as_json:
                console.print(f"queued match {created['id']} ({created['game']})", highlight=False)
            final = _follow(client, created, quiet=as_json) if follow else created
    except ApiError as exc:
        fail_api(exc)
    if as_json:
        print_json(final)
    else:
        _summary(final, agent1, agent2, *(more or []))
    if final["status"] == "error":
        raise typer.Exit(1)


def cancel(match_id: str, *, as_json: bool, server: str | None) -> None:
    """Cancel a queued or running match and say what became of it."""
    cancelled = call_api(server, lambda client: client.cancel_match(match_id))
    if as_json:
        print_json(cancelled)
        return
    was = cancelled["statusHistory"][-2]["status"] if len(cancelled["statusHistory"]) > 1 else ""
    stopped = " (stopped on its executor)" if was == "running" else ""
    console.print(f"cancelled match {cancelled['id']}{stopped}", highlight=False)


def _follow(client: Any, created: dict[str, Any], *, quiet: bool) -> dict[str, Any]:
    """Print each status as the match enters it; the match once it has ended."""
    seen = 0
    current = created
    while True:
        history = current["statusHistory"]
        for change in history[seen:]:
            if not quiet:
                console.print(f"[bold]{change['status']}[/]  {change['at']}", highlight=False)
        seen = len(history)
        if current["status"] in _ENDED:
            return current
        time.sleep(_POLL_SECONDS)
        current = client.match(created["id"])


def _summary(final: dict[str, Any], *names: str) -> None:
    if final["status"] not in _ENDED:
        return
    if final["status"] != "finished":
        console.print(f"[bold red]match {final['status']}[/]", highlight=False)
        return
    winner = final["winner"]
    if len(names) == 2:
        console.print("[bold]draw[/]" if winner is None else f"[bold]winner: {names[winner]}[/]")
    for seat in final["agents"]:
        reason = f": {seat['reason']}" if seat["reason"] else ""
        place = f"place {seat['rank']}, " if len(names) > 2 and seat.get("rank") else ""
        console.print(f"{names[seat['player']]}: {place}{seat['outcome']}{reason}", highlight=False)
    console.print(f"scores {final['scores']}, {final['durationMs']} ms", highlight=False)


def replay(
    match_id: Annotated[str, typer.Argument(help="The match id (mat-…).")],
    as_json: JsonOption = False,
    server: ServerOption = None,
) -> None:
    """Print a finished match's replay, step by step, as text frames."""
    from botarena.games.registry import UnknownGameError, get_game
    from botarena.games.replays import replay_states

    recorded = call_api(server, lambda client: client.replay(match_id))
    if as_json:
        print_json(recorded)
        return
    try:
        game = get_game(recorded["game"])
    except UnknownGameError:
        fail(f"this botarena does not know the game {recorded['game']!r}")
    for step, state in replay_states(game, recorded):
        actions = ", ".join(f"player {p}: {a}" for p, a in sorted(step["actions"].items()))
        console.print(f"[bold]step {step['step']}[/]" + (f"  ({actions})" if actions else ""))
        console.print(game.render(state), highlight=False, markup=False)
        console.print()
