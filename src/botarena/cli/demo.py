"""``botarena demo``: the whole platform in one shot, in a temporary data folder."""

from __future__ import annotations

import tempfile
import time
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from botarena.cli.output import console, err_console, fail, print_json

if TYPE_CHECKING:
    from botarena.db.engine import SessionFactory


def demo(
    matches: Annotated[
        int, typer.Option("--matches", help="Ladder matches to play before stopping.", min=1)
    ] = 30,
    timeout: Annotated[float, typer.Option(help="Give up after this many seconds.")] = 600,
    as_json: Annotated[bool, typer.Option("--json", help="Print the leaderboard as JSON.")] = False,
) -> None:
    """Build the example agents, let the ladder play N matches, print the leaderboard, exit."""
    # Imported here: the other commands start without the server.
    from fastapi.testclient import TestClient

    from botarena.app import create_app
    from botarena.demo import DEMO_GAME, Activator, demo_token, submit_examples
    from botarena.logging import configure_logging
    from botarena.settings import get_settings

    configure_logging("WARNING", "console")
    with tempfile.TemporaryDirectory(prefix="botarena-demo-") as folder:
        settings = get_settings().model_copy(
            update={
                "data_dir": Path(folder),
                "database_url": None,
                "builds_enabled": True,
                "build_backend": "local",
                "matches_enabled": True,
                "ladder_enabled": True,
                "ladder_interval": 0.2,
                "ladder_rate": max(get_settings().ladder_rate, 600),
            }
        )
        deadline = time.monotonic() + timeout
        with TestClient(create_app(settings)) as client:
            factory = client.app.state.session_factory  # type: ignore[attr-defined]
            demo_token(factory)
            submitted = submit_examples(factory, settings)
            if len(submitted) < 2:
                fail("the demo needs the example agents of a botarena checkout")
            client.app.state.on_build_queued()  # type: ignore[attr-defined]
            activator = Activator(factory, settings)
            activator.start()
            err_console.print(f"building {len(submitted)} example agents …", highlight=False)
            while not activator.done.wait(0.5):
                if time.monotonic() > deadline:
                    activator.stop()
                    fail(f"the example agents were not built within {timeout:g} s")
            activator.stop()
            played = _play(factory, settings.ladder_placement_games, matches, deadline, timeout)
            board: dict[str, Any] = client.get(
                "/api/v1/leaderboard", params={"game": DEMO_GAME}
            ).json()
    if as_json:
        print_json(board)
        return
    console.print(
        f"{DEMO_GAME} after {played} ladder matches, each example agent past its "
        f"{settings.ladder_placement_games} placement games:",
        highlight=False,
    )
    for row in board["items"]:
        console.print(
            f"{row['rank']:>2}. {row['agentName']:<20} score {row['score']:7.2f} "
            f"({row['wins']}-{row['losses']}-{row['draws']} in {row['games']} games)",
            highlight=False,
        )


def _play(
    factory: SessionFactory, placement: int, matches: int, deadline: float, timeout: float
) -> int:
    """Wait until every example is active, has played its placement games, and ``matches``
    ladder matches made after all were active have finished; returns how many did.

    Counting starts only once the last example is active: matches played before, among the
    examples built first, would leave a late one (the slowest to build and validate is the
    strongest, connectx-search) on the leaderboard with no game at all."""
    from botarena.agents.status import SubmissionStatus
    from botarena.clock import utcnow
    from botarena.demo import DEMO_GAME, demo_examples, ladder_matches_since

    examples = demo_examples(factory)
    inactive = [e for e in examples if e.status != SubmissionStatus.ACTIVE.value]
    if inactive:
        fail(
            "not every example agent could be activated: "
            + "; ".join(f"{e.name} is {e.status}" for e in inactive),
            "; ".join(f"{e.name}: {e.error}" for e in inactive if e.error) or None,
        )
    since = utcnow()
    err_console.print(
        f"every example agent is active; the ladder plays (each example plays its {placement} "
        "placement games first)",
        highlight=False,
    )
    while True:
        played = ladder_matches_since(factory, DEMO_GAME, since)
        games = {e.name: e.games for e in demo_examples(factory)}
        err_console.print(
            f"ladder matches played: {played}/{matches}; games per example: "
            + ", ".join(f"{name} {count}" for name, count in games.items()),
            highlight=False,
        )
        if played >= matches and min(games.values()) >= placement:
            return played
        if time.monotonic() > deadline:
            short = [name for name, count in games.items() if count < placement]
            fail(
                f"only {played} of {matches} matches were played within {timeout:g} s"
                + (f"; still placing: {', '.join(short)}" if short else "")
            )
        time.sleep(0.5)
