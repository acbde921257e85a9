"""``botarena demo``: the whole platform in one shot, in a temporary data folder."""

from __future__ import annotations

import tempfile
import time
from pathlib import Path
from typing import Annotated, Any

import typer

from botarena.cli.output import console, err_console, fail, print_json


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
    from sqlalchemy import func, select

    from botarena.app import create_app
    from botarena.demo import DEMO_GAME, Activator, demo_token, submit_examples
    from botarena.logging import configure_logging
    from botarena.matches.models import Match
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
            err_console.print("every example agent is active; the ladder plays", highlight=False)
            played = 0
            while played < matches:
                if time.monotonic() > deadline:
                    activator.stop()
                    fail(f"only {played} of {matches} matches were played within {timeout:g} s")
                time.sleep(0.5)
                with factory() as session:
                    played = int(
                        session.scalar(
                            select(func.count()).where(
                                Match.ranked.is_(True), Match.status == "finished"
                            )
                        )
                        or 0
                    )
                err_console.print(f"ladder matches played: {played}/{matches}", highlight=False)
            activator.stop()
            board: dict[str, Any] = client.get(
                "/api/v1/leaderboard", params={"game": DEMO_GAME}
            ).json()
    if as_json:
        print_json(board)
        return
    for row in board["items"]:
        console.print(
            f"{row['rank']:>2}. {row['agentName']:<20} score {row['score']:7.2f} "
            f"({row['wins']}-{row['losses']}-{row['draws']} in {row['games']} games)",
            highlight=False,
        )
