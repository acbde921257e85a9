"""The ``?game=`` filter of the lists: a known game or none; an unknown one is refused (422)
rather than answered with an empty list, as the description's enumeration of games says."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Query

from botarena.errors import invalid
from botarena.games.registry import UnknownGameError, get_game


def game_filter(
    game: Annotated[str | None, Query(min_length=1, max_length=64)] = None,
) -> str | None:
    if game is not None:
        try:
            get_game(game)
        except UnknownGameError as exc:
            raise invalid("game", exc.message) from exc
    return game


GameFilter = Annotated[str | None, Depends(game_filter)]
