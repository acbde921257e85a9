"""Rock, paper, scissors, Kaggle's rules: both players pick a sign at once, for many rounds.

Signs are 0 rock, 1 paper, 2 scissors (then 3 Spock, 4 lizard with ``signs`` up to 5). A
round won is +1 for the winner and -1 for the loser. A player wins the match when their
total reaches ``tieRewardThreshold``; anything closer is a draw.

State keys: ``config``, ``seed``, ``step`` (rounds played), ``lastActions`` (both signs of
the last round, or None) and ``totals`` (each player's points).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, ClassVar

from botarena.games.base import Game, IllegalActionError, MoveText, State, as_integer
from botarena.games.settings import Setting, integer, timing_settings

SIGN_NAMES = ("rock", "paper", "scissors", "Spock", "lizard")


def round_points(mine: int, theirs: int) -> int:
    """+1 when ``mine`` beats ``theirs``, -1 when it loses, 0 for the same sign.

    Kaggle's rule for any number of signs: when the two signs add up to an odd number the
    larger one wins, otherwise the smaller one does. With three signs this is the usual
    cycle, where ``mine`` wins exactly when ``(mine - theirs) % 3 == 1``.
    """
    if mine == theirs:
        return 0
    larger_wins = (mine + theirs) % 2 == 1
    return 1 if (mine > theirs) == larger_wins else -1


class RockPaperScissors(Game):
    """Kaggle's repeated rock-paper-scissors; both players act every step."""

    id: ClassVar[str] = "rps"
    title: ClassVar[str] = "Rock, paper, scissors"
    settings: ClassVar[tuple[Setting, ...]] = (
        integer("signs", 3, 3, 5),
        integer("tieRewardThreshold", 20, 1, 1000),
        *timing_settings(act_timeout=1, episode_steps=1000),
    )
    renderer: ClassVar[str] = "rps"

    def initial_state(self, config: Mapping[str, Any], seed: int) -> State:
        return {
            "config": self.configure(config),
            "seed": seed,
            "step": 0,
            "lastActions": None,
            "totals": [0, 0],
        }

    def to_move(self, state: State) -> list[int]:
        return [] if self.is_terminal(state) else [0, 1]

    def observation(self, state: State, player: int) -> dict[str, Any]:
        self._check_player(player)
        last = state["lastActions"]
        return {
            "step": state["step"],
            "lastOpponentAction": None if last is None else last[1 - player],
        }

    def invalid_reason(self, state: State, player: int, action: Any) -> str | None:
        if self.is_terminal(state):
            return "the game is over"
        if player not in self.to_move(state):
            return f"player {player} is not in this game"
        sign = as_integer(action)
        if sign is None:
            return "action must be an integer"
        signs = state["config"]["signs"]
        if not 0 <= sign < signs:
            return f"sign {sign} is out of range 0..{signs - 1}"
        return None

    def apply(self, state: State, actions: Mapping[int, Any]) -> State:
        self._check_actions(state, actions)
        signs = [as_integer(actions[0]), as_integer(actions[1])]
        if signs[0] is None or signs[1] is None:  # unreachable: narrows the type for mypy
            raise IllegalActionError("action must be an integer")
        points = round_points(signs[0], signs[1])
        totals = state["totals"]
        return {
            "config": dict(state["config"]),
            "seed": state["seed"],
            "step": state["step"] + 1,
            "lastActions": [signs[0], signs[1]],
            "totals": [totals[0] + points, totals[1] - points],
        }

    def is_terminal(self, state: State) -> bool:
        return bool(state["step"] >= state["config"]["episodeSteps"])

    def scores(self, state: State) -> list[float]:
        return [float(total) for total in state["totals"]]

    def winner(self, state: State) -> int | None:
        lead = state["totals"][0]
        threshold = state["config"]["tieRewardThreshold"]
        if lead >= threshold:
            return 0
        if -lead >= threshold:
            return 1
        return None

    def replay_frame(self, state: State) -> dict[str, Any]:
        last = state["lastActions"]
        return {
            "step": state["step"],
            "actions": None if last is None else list(last),
            "roundPoints": None if last is None else self._round_pair(last),
            "totals": list(state["totals"]),
            "terminal": self.is_terminal(state),
            "winner": self.winner(state),
        }

    def render(self, state: State) -> str:
        config, last, totals = state["config"], state["lastActions"], state["totals"]
        lines = [f"Round {state['step']} of {config['episodeSteps']}"]
        if last is not None:
            names = [SIGN_NAMES[sign] for sign in last]
            points = round_points(last[0], last[1])
            result = "tie" if points == 0 else f"player {0 if points > 0 else 1} takes it"
            lines.append(f"player 0 {names[0]} vs player 1 {names[1]}: {result}")
        lines.append(f"Totals: {totals[0]} to {totals[1]}")
        if self.is_terminal(state):
            winner = self.winner(state)
            lines.append("Draw" if winner is None else f"Player {winner} wins")
        else:
            lines.append(f"A win needs a total of {config['tieRewardThreshold']} or more")
        return "\n".join(lines)

    # -- replays in words ----------------------------------------------------------------
    def text_board(self, state: State, line: Sequence[int] = (), names: Sequence[str] = ()) -> str:
        seats = [names[p] if p < len(names) else self.seat_name(p) for p in (0, 1)]
        last, totals = state["lastActions"], state["totals"]
        lines = [f"Round {state['step']} of {state['config']['episodeSteps']}"]
        if last is not None:
            lines += [f"{seats[p]} throws {SIGN_NAMES[last[p]]}" for p in (0, 1)]
        lines.append(f"Score: {seats[0]} {totals[0]}, {seats[1]} {totals[1]}")
        return "\n".join(lines)

    def describe_move(
        self, before: State, actions: Mapping[int, Any], after: State, names: Sequence[str]
    ) -> MoveText:
        first, second = (SIGN_NAMES[sign] for sign in after["lastActions"])
        points = round_points(after["lastActions"][0], after["lastActions"][1])
        if points == 0:
            return MoveText(f"{first} against {second}", f"{first} against {second}: a tie")
        winner = 0 if points > 0 else 1
        name = names[winner] if winner < len(names) else self.seat_name(winner)
        beats = f"{first} beats {second}" if points > 0 else f"{second} beats {first}"
        return MoveText(f"{first} against {second}", f"{beats}: {name} takes the round")

    def result_detail(self, state: State) -> str | None:
        totals = state["totals"]
        return f"final score {totals[0]} to {totals[1]}"

    @staticmethod
    def _round_pair(last: list[int]) -> list[int]:
        points = round_points(last[0], last[1])
        return [points, -points]
