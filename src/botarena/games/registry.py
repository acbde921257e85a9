"""Which games exist, by id: the built-in ones and those installed under ``botarena.games``.

Third-party packages plug a game in by declaring an entry point in the group ``botarena.games``
whose name is the game id. Looking a game up by id loads nothing.
"""

from __future__ import annotations

from dataclasses import dataclass
from importlib.metadata import entry_points

ENTRY_POINT_GROUP = "botarena.games"


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
)


def known_games() -> dict[str, GameInfo]:
    """Every game by id; a plug-in cannot take a built-in game's id."""
    games = {game.id: game for game in BUILTIN_GAMES}
    for entry in entry_points(group=ENTRY_POINT_GROUP):
        games.setdefault(entry.name, GameInfo(entry.name, entry.name, builtin=False))
    return games


def is_known_game(game_id: str) -> bool:
    """True when ``game_id`` names a game of the registry."""
    return game_id in known_games()
