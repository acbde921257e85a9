"""Which games exist, by id: the built-in ones and those installed under ``botarena.games``.

Third-party packages plug a game in by declaring an entry point in the group ``botarena.games``
whose name is the game id and whose object is a :class:`~botarena.games.base.Game` subclass.
Listing games or checking an id loads nothing; only :func:`get_game` imports the rules.
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass
from functools import lru_cache
from importlib.metadata import EntryPoint, entry_points
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from collections.abc import Callable, Iterable

    from botarena.games.base import Game

ENTRY_POINT_GROUP = "botarena.games"

# Module and class of each built-in game, imported on first use to keep start-up light.
BUILTIN_CLASSES: dict[str, tuple[str, str]] = {
    "connectx": ("botarena.games.connectx", "ConnectX"),
    "tictactoe": ("botarena.games.tictactoe", "TicTacToe"),
    "rps": ("botarena.games.rps", "RockPaperScissors"),
    "geese": ("botarena.games.geese", "HungryGeese"),
}


class UnknownGameError(KeyError):
    """No game has this id, or its plug-in does not provide a usable game; ``message`` says
    which in one sentence, as callers show it."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message

    def __str__(self) -> str:
        # KeyError would show the message quoted, as if it were a key.
        return self.message


@dataclass(frozen=True)
class GameInfo:
    """A known game: its id and a human title."""

    id: str
    title: str
    builtin: bool


BUILTIN_GAMES: tuple[GameInfo, ...] = (
    GameInfo("connectx", "ConnectX", builtin=True),
    GameInfo("tictactoe", "Tic-tac-toe", builtin=True),
    GameInfo("rps", "Rock, paper, scissors", builtin=True),
    GameInfo("geese", "Hungry Geese", builtin=True),
)


def known_games() -> dict[str, GameInfo]:
    """Every game by id; a plug-in cannot take a built-in game's id."""
    games = {game.id: game for game in BUILTIN_GAMES}
    for entry in _plugins(entry_points):
        games.setdefault(entry.name, GameInfo(entry.name, entry.name, builtin=False))
    return games


@lru_cache(maxsize=4)
def _plugins(source: Callable[..., Iterable[EntryPoint]]) -> tuple[EntryPoint, ...]:
    """The installed game plug-ins, read once per process (reading the installed packages'
    metadata takes milliseconds, and every page asks); installing one means restarting, as
    for any package. Keyed by where they are read from, so a test that replaces the source
    reads its own."""
    return tuple(source(group=ENTRY_POINT_GROUP))


def is_known_game(game_id: str) -> bool:
    """True when ``game_id`` names a game of the registry."""
    return game_id in known_games()


def get_game(game_id: str) -> Game:
    """The rules of the game ``game_id``; raises :class:`UnknownGameError`."""
    builtin = BUILTIN_CLASSES.get(game_id)
    if builtin is not None:
        module_name, class_name = builtin
        game_class: type[Game] = getattr(importlib.import_module(module_name), class_name)
        return game_class()
    for entry in _plugins(entry_points):
        if entry.name == game_id:
            return _load_plugin(game_id, entry.value, entry.load)
    known = ", ".join(sorted(known_games()))
    raise UnknownGameError(f"Unknown game '{game_id}'; known games: {known}")


def _load_plugin(game_id: str, target: str, load: Callable[[], object]) -> Game:
    """Load and check the game an entry point names."""
    from botarena.games.base import Game

    where = f"entry point '{game_id}' ({target})"
    try:
        loaded = load()
    # A plug-in may fail in any way while importing; the caller only needs to know it failed.
    except Exception as exc:
        raise UnknownGameError(f"Game {where} could not be loaded: {exc}") from exc
    if not (isinstance(loaded, type) and issubclass(loaded, Game)):
        raise UnknownGameError(f"Game {where} is not a subclass of botarena's Game")
    loaded_id = getattr(loaded, "id", None)
    if loaded_id != game_id:
        raise UnknownGameError(f"Game {where} has id {loaded_id!r}, not '{game_id}'")
    return loaded()
