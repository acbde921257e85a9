"""Standings of a tournament and the tie-breaks that order them: pure functions of the games.

Points: a win 1, a draw 0.5, a loss 0; a swiss bye 1 (the round it sat out). Entrants level on
points are ordered by the format's tie-breaks, in this order:

- round robin: head-to-head points among the entrants level on points, Sonneborn-Berger, wins;
- swiss: Buchholz (the points of every opponent met), Sonneborn-Berger, wins;
- single elimination: the round reached (byes and deciding games make points meaningless
  there);
- free-for-all (tables of more than two, for games such as Hungry Geese): as swiss. A
  table's match counts as one game between every two entrants at it, won by the one placed
  higher (level places: a draw), so a table gives points by placement: first of four alone
  takes 3, last 0;

and last by seed, so that the order is total and never arbitrary. A void game (one the
platform could not play after every replay) counts for no one.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field

ROUND_ROBIN = "round_robin"
SWISS = "swiss"
SINGLE_ELIMINATION = "single_elimination"
FREE_FOR_ALL = "free_for_all"
FORMATS = (ROUND_ROBIN, SWISS, SINGLE_ELIMINATION, FREE_FOR_ALL)

SWISS_BYE_POINTS = 1.0

TIEBREAKS: dict[str, tuple[str, ...]] = {
    ROUND_ROBIN: ("points", "headToHead", "sonnebornBerger", "wins", "seed"),
    SWISS: ("points", "buchholz", "sonnebornBerger", "wins", "seed"),
    SINGLE_ELIMINATION: ("roundReached", "seed"),
    FREE_FOR_ALL: ("points", "buchholz", "sonnebornBerger", "wins", "seed"),
}


@dataclass(frozen=True)
class Game:
    """A decided game as the standings see it: ``score_a`` is 1, 0.5 or 0 for ``a``; a bye
    has no ``b``."""

    round: int
    a: str
    b: str | None
    score_a: float


@dataclass
class Standing:
    """One entrant's line in the standings."""

    entrant: str
    seed: int
    points: float = 0.0
    wins: int = 0
    draws: int = 0
    losses: int = 0
    byes: int = 0
    buchholz: float = 0.0
    sonneborn_berger: float = 0.0
    head_to_head: float = 0.0
    round_reached: int = 0
    rank: int = 0
    opponents: list[tuple[str, float]] = field(default_factory=list)  # (who, my score)


def standings(
    fmt: str,
    entrants: Sequence[str],
    games: Sequence[Game],
    eliminated_in: dict[str, int] | None = None,
    alive_round: int = 0,
) -> list[Standing]:
    """Every entrant, best first, each with its rank and tie-break values.

    ``entrants`` are in seed order; ``eliminated_in`` (single elimination) gives the round
    in which an entrant was knocked out; those absent are still in, and have reached
    ``alive_round`` (the current round, or one past the last for the winner).
    """
    table = {name: Standing(entrant=name, seed=index + 1) for index, name in enumerate(entrants)}
    for game in games:
        one = table[game.a]
        if game.b is None:
            one.byes += 1
            one.points += SWISS_BYE_POINTS if fmt == SWISS else 0.0
            continue
        two = table[game.b]
        for me, them, score in ((one, two, game.score_a), (two, one, 1.0 - game.score_a)):
            me.points += score
            me.wins += score == 1.0
            me.draws += score == 0.5
            me.losses += score == 0.0
            me.opponents.append((them.entrant, score))
    for line in table.values():
        line.buchholz = sum(table[who].points for who, _ in line.opponents)
        line.sonneborn_berger = sum(table[who].points * score for who, score in line.opponents)
    _head_to_head(table)
    for name, line in table.items():
        out = (eliminated_in or {}).get(name)
        line.round_reached = out if out is not None else alive_round
    ordered = sorted(table.values(), key=lambda line: _key(fmt, line))
    for rank, line in enumerate(ordered, start=1):
        line.rank = rank
    return ordered


def _head_to_head(table: dict[str, Standing]) -> None:
    """Points scored against the other entrants level on points."""
    level: dict[float, set[str]] = defaultdict(set)
    for line in table.values():
        level[line.points].add(line.entrant)
    for line in table.values():
        rivals = level[line.points] - {line.entrant}
        line.head_to_head = sum(score for who, score in line.opponents if who in rivals)


def _key(fmt: str, line: Standing) -> tuple[float, ...]:
    if fmt == ROUND_ROBIN:
        return (-line.points, -line.head_to_head, -line.sonneborn_berger, -line.wins, line.seed)
    if fmt in (SWISS, FREE_FOR_ALL):
        return (-line.points, -line.buchholz, -line.sonneborn_berger, -line.wins, line.seed)
    return (-line.round_reached, line.seed)
