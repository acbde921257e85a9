"""The game registry: built-in games, plug-in games from entry points, and unknown ids."""

from __future__ import annotations

import pytest

from botarena.games import registry
from botarena.games.base import Game
from botarena.games.connectx import ConnectX
from botarena.games.rps import RockPaperScissors
from botarena.games.tictactoe import TicTacToe

from support.plugins import FakeEntryPoint, MiniGame, install


class NotAGame:
    id = "mini"


@pytest.mark.parametrize(
    ("game_id", "game_class"),
    [("connectx", ConnectX), ("tictactoe", TicTacToe), ("rps", RockPaperScissors)],
)
def test_builtin_games(game_id: str, game_class: type[Game]) -> None:
    game = registry.get_game(game_id)
    assert type(game) is game_class
    assert game.id == game_id
    assert game.title == registry.known_games()[game_id].title
    assert game.players == 2


def test_unknown_game(monkeypatch: pytest.MonkeyPatch) -> None:
    install(monkeypatch)
    with pytest.raises(registry.UnknownGameError) as caught:
        registry.get_game("chess")
    assert str(caught.value) == "Unknown game 'chess'; known games: connectx, geese, rps, tictactoe"
    assert isinstance(caught.value, KeyError)


def test_plugin_game_is_listed_then_loaded(monkeypatch: pytest.MonkeyPatch) -> None:
    install(monkeypatch, FakeEntryPoint("mini", "mini_pkg:MiniGame", lambda: MiniGame))
    assert registry.is_known_game("mini")
    assert registry.known_games()["mini"].builtin is False
    assert type(registry.get_game("mini")) is MiniGame


def test_plugin_with_another_id_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    install(monkeypatch, FakeEntryPoint("tiny", "mini_pkg:MiniGame", lambda: MiniGame))
    with pytest.raises(registry.UnknownGameError) as caught:
        registry.get_game("tiny")
    assert str(caught.value) == (
        "Game entry point 'tiny' (mini_pkg:MiniGame) has id 'mini', not 'tiny'"
    )


def test_plugin_that_is_not_a_game_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    install(monkeypatch, FakeEntryPoint("mini", "mini_pkg:NotAGame", lambda: NotAGame))
    with pytest.raises(registry.UnknownGameError, match="is not a subclass of botarena's Game"):
        registry.get_game("mini")


def test_plugin_that_fails_to_import_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    def broken() -> object:
        raise ModuleNotFoundError("No module named 'mini_pkg'")

    install(monkeypatch, FakeEntryPoint("mini", "mini_pkg:MiniGame", broken))
    with pytest.raises(registry.UnknownGameError) as caught:
        registry.get_game("mini")
    assert str(caught.value) == (
        "Game entry point 'mini' (mini_pkg:MiniGame) could not be loaded: "
        "No module named 'mini_pkg'"
    )


def test_a_plugin_cannot_replace_a_builtin_game(monkeypatch: pytest.MonkeyPatch) -> None:
    install(monkeypatch, FakeEntryPoint("connectx", "mini_pkg:MiniGame", lambda: MiniGame))
    assert registry.known_games()["connectx"].builtin is True
    assert type(registry.get_game("connectx")) is ConnectX


def test_a_game_declaring_only_players_seats_exactly_that_many() -> None:
    class Trio(RockPaperScissors):
        players = 3

    assert Trio().player_range() == (3, 3)
    Trio().check_player_count(3)
    with pytest.raises(ValueError, match="played by 3 agents, not 2"):
        Trio().check_player_count(2)
