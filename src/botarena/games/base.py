"""The protocol every game implements, so that the referee can drive any game the same way.

A game object holds no match data: every method is a pure function of its arguments, and a
state is a JSON-friendly dict (only dicts, lists, ints, floats, strs, bools and None) that
carries its own configuration. Players are numbered from 0.

A game is played by ``players`` agents unless it allows more than one number (``min_players``
to ``max_players``, e.g. a free-for-all for 2 to 4): then the referee starts it with
:meth:`Game.initial_state_for` and the number of agents the match has.
"""

from __future__ import annotations

import json
from abc import ABC, abstractmethod
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, ClassVar

from botarena.games.settings import GameConfigError, Setting, defaults, merge

State = dict[str, Any]

__all__ = [
    "Game",
    "GameConfigError",
    "IllegalActionError",
    "MoveText",
    "State",
    "as_integer",
    "placements",
]


class IllegalActionError(ValueError):
    """``apply`` was given an action that ``invalid_reason`` refuses (a referee bug)."""


@dataclass(frozen=True)
class MoveText:
    """A move in words: ``label`` is short ("Red, column 4"), ``sentence`` reads aloud
    ("Red drops in column 4")."""

    label: str
    sentence: str


def as_integer(action: Any) -> int | None:
    """An action as an int: ints, and floats with no fractional part (JSON may send ``3.0``).

    Booleans are refused, although Python counts them as ints: ``true`` is not a move.
    """
    if isinstance(action, bool):
        return None
    if isinstance(action, int):
        return action
    if isinstance(action, float) and action.is_integer():
        return int(action)
    return None


class Game(ABC):
    """Rules of one game; see the module docstring for what the methods may assume."""

    id: ClassVar[str]
    title: ClassVar[str]
    #: How many agents play when nothing says otherwise (the ladder's group size).
    players: ClassVar[int] = 2
    #: The fewest and most agents a match of this game may have; None: ``players`` (so a
    #: plug-in that declares only ``players`` keeps playing with exactly that many).
    min_players: ClassVar[int | None] = None
    max_players: ClassVar[int | None] = None
    #: Every configuration key of the game, timing keys included.
    settings: ClassVar[tuple[Setting, ...]]
    #: The web UI's JS module drawing this game's replays (``replay/<renderer>.js`` in its
    #: static folder); a game bringing none is shown by the generic one, its frames as text.
    renderer: ClassVar[str] = "generic"
    #: A plug-in's own renderer module shipped in its package, as (package, file name).
    renderer_resource: ClassVar[tuple[str, str] | None] = None

    def default_configuration(self) -> dict[str, Any]:
        """Every configuration key at its default value."""
        return defaults(self.settings)

    def configure(self, overrides: Mapping[str, Any]) -> dict[str, Any]:
        """Defaults merged with ``overrides``, each checked; raises :class:`GameConfigError`."""
        config = merge(self.settings, overrides)
        self.check_configuration(config)
        return config

    def check_configuration(self, config: dict[str, Any]) -> None:
        """Rules between keys (each key alone is already checked); raises GameConfigError."""
        return  # most games have none

    @abstractmethod
    def initial_state(self, config: Mapping[str, Any], seed: int) -> State:
        """The state before the first move; ``config`` is checked again by ``configure``."""

    def initial_state_for(self, config: Mapping[str, Any], seed: int, players: int) -> State:
        """The state before the first move of a match of ``players`` agents; a game for a
        fixed number of players needs only :meth:`initial_state`."""
        self.check_player_count(players)
        return self.initial_state(config, seed)

    def check_player_count(self, players: int) -> None:
        """Raise ValueError unless a match of this game may have ``players`` agents."""
        low, high = self.player_range()
        if not low <= players <= high:
            allowed = str(low) if low == high else f"{low} to {high}"
            raise ValueError(f"{self.title} is played by {allowed} agents, not {players}")

    def player_range(self) -> tuple[int, int]:
        """The fewest and the most agents a match of this game may have."""
        low = self.players if self.min_players is None else self.min_players
        high = self.players if self.max_players is None else self.max_players
        return low, high

    @abstractmethod
    def to_move(self, state: State) -> list[int]:
        """The players who act now, in increasing order; empty once the game is over."""

    @abstractmethod
    def observation(self, state: State, player: int) -> dict[str, Any]:
        """What ``player``'s agent sees, with Kaggle's field names (no time bank)."""

    @abstractmethod
    def invalid_reason(self, state: State, player: int, action: Any) -> str | None:
        """None when ``player`` may play ``action`` now, else why not, as one sentence."""

    @abstractmethod
    def apply(self, state: State, actions: Mapping[int, Any]) -> State:
        """The next state after the actions of every player in ``to_move``.

        The given state is left untouched. Raises :class:`IllegalActionError` when an action
        is missing or refused by ``invalid_reason``.
        """

    @abstractmethod
    def is_terminal(self, state: State) -> bool:
        """True once the game is over (a win, a full board, or ``episodeSteps`` reached)."""

    @abstractmethod
    def scores(self, state: State) -> list[float]:
        """Each player's score, as if the game stopped at ``state``."""

    @abstractmethod
    def winner(self, state: State) -> int | None:
        """The winning player, as if the game stopped at ``state``; None for a draw."""

    def forfeit_scores(self, state: State, loser: int) -> list[float]:
        """Scores when ``loser`` crashed, timed out or played illegally: the others win.

        Kaggle gives 1 to the agents still standing and 0 to the one at fault.
        """
        self._check_player(loser)
        return [0.0 if player == loser else 1.0 for player in range(len(self.scores(state)))]

    @abstractmethod
    def render(self, state: State) -> str:
        """A readable text picture of the state, several lines, no trailing newline."""

    @abstractmethod
    def replay_frame(self, state: State) -> dict[str, Any]:
        """What a replay stores for this step: the board or choices, the step number, etc."""

    # -- replays in words: for pages without JavaScript and for screen readers ------------
    # The defaults fit any game; each built-in game says it better.

    def seat_name(self, player: int) -> str:
        """What the viewer calls a seat in words ("Red", "X"): never a colour alone on screen."""
        return f"Player {player + 1}"

    def seat_glyph(self, player: int) -> str:
        """The character standing for the seat's pieces in a text board."""
        return str(player + 1)

    def text_board(self, state: State, line: Sequence[int] = (), names: Sequence[str] = ()) -> str:
        """The position as text, ``line``'s cells marked, ``names`` the agents by seat; by
        default the replay frame as JSON."""
        return json.dumps(self.replay_frame(state), indent=1, sort_keys=True)

    def describe_move(
        self, before: State, actions: Mapping[int, Any], after: State, names: Sequence[str]
    ) -> MoveText:
        """The move from ``before`` to ``after`` in words; ``names`` are the agents by seat."""
        played = [f"{self.seat_name(p)} plays {json.dumps(a)}" for p, a in sorted(actions.items())]
        return MoveText(", ".join(played), "; ".join(played))

    def winning_line(self, state: State) -> list[int]:
        """The cells of the line that won, in increasing order; empty when none did."""
        return []

    def describe_cells(self, state: State, cells: Sequence[int]) -> str:
        """Cells named in words, as a winning line is read out."""
        return ", ".join(f"cell {cell}" for cell in cells)

    def result_detail(self, state: State) -> str | None:
        """What the result sentence adds after the winner (a final score), or None."""
        return None

    def _check_player(self, player: int) -> None:
        most = self.player_range()[1]
        if isinstance(player, bool) or not isinstance(player, int):
            raise ValueError(f"player must be an integer from 0 to {most - 1}")
        if not 0 <= player < most:
            raise ValueError(f"player {player} is not in this game (0 to {most - 1})")

    def _check_actions(self, state: State, actions: Mapping[int, Any]) -> None:
        """Refuse a set of actions that is not exactly one legal action per player to move."""
        movers = self.to_move(state)
        if not movers:
            raise IllegalActionError("the game is over")
        if sorted(actions) != movers:
            expected = ", ".join(str(player) for player in movers)
            raise IllegalActionError(f"actions must be given for exactly player(s) {expected}")
        for player in movers:
            reason = self.invalid_reason(state, player, actions[player])
            if reason is not None:
                raise IllegalActionError(f"player {player}: {reason}")


def placements(winner: int | None, scores: Sequence[float] | None, seats: int) -> list[int]:
    """Each seat's place in a finished match, 1 the best, equal places for a tie.

    Two seats are placed by the winner, as matches always were (a draw puts both first, even
    when the scores differ: rock-paper-scissors wins only past a threshold). More seats are a
    free-for-all, placed by score, higher first (a forfeit's scores put the one at fault last).
    """
    if seats == 2 or scores is None or len(scores) != seats:
        if winner is None:
            return [1] * seats
        return [1 if seat == winner else 2 for seat in range(seats)]
    return [1 + sum(1 for other in scores if other > mine) for mine in scores]
