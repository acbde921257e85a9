"""Who meets whom in each format: pure functions of the entrants and what they played.

Entrants are named by an opaque key (a submission id) and listed in seed order, best first.
``None`` stands for a bye: the entrant paired with it sits the round out.
"""

from __future__ import annotations

import math
from collections.abc import Collection, Sequence

Pairing = tuple[str, str | None]

# Exhaustive search for repeat-free swiss pairings stops after this many steps, then repeats
# are allowed (it is only reached when no repeat-free pairing exists among many entrants).
SEARCH_BUDGET = 200_000


def round_robin_rounds(entrants: Sequence[str]) -> list[list[Pairing]]:
    """Every entrant meets every other once (the circle method); with an odd number, each
    sits out one round. The first seat alternates so that nobody always moves first."""
    seats: list[str | None] = list(entrants)
    if len(seats) % 2:
        seats.append(None)
    size = len(seats)
    rounds: list[list[Pairing]] = []
    for index in range(size - 1):
        pairings: list[Pairing] = []
        for table in range(size // 2):
            one, two = seats[table], seats[size - 1 - table]
            if one is None or (two is not None and (index + table) % 2):
                one, two = two, one
            assert one is not None
            pairings.append((one, two))
        rounds.append(pairings)
        seats = [seats[0], seats[-1], *seats[1:-1]]  # the first stays, the rest turn
    return rounds


def swiss_round_count(entrants: int) -> int:
    """The default number of swiss rounds: enough to single out a winner."""
    return max(1, math.ceil(math.log2(entrants)))


def swiss_pairings(
    ranking: Sequence[str], met: Collection[frozenset[str]], had_bye: Collection[str]
) -> list[Pairing]:
    """One swiss round: ``ranking`` is the current standings, best first.

    Entrants are paired top-down with the nearest in the standings they have not met. With an
    odd number, the lowest-ranked entrant without a bye so far sits out. A repeat pairing is
    made only when no pairing of the round avoids every repeat (searched exhaustively, within
    :data:`SEARCH_BUDGET` steps); then each entrant takes the nearest it has met least.
    """
    players = list(ranking)
    bye_candidates: list[str | None] = [None]
    if len(players) % 2:
        fresh = [p for p in reversed(players) if p not in had_bye]
        bye_candidates = list(fresh or reversed(players))
    budget = [SEARCH_BUDGET]
    for bye in bye_candidates:
        rest = [p for p in players if p != bye]
        found = _pair_without_repeats(rest, met, budget)
        if found is not None:
            return [*found, *([(bye, None)] if bye is not None else [])]
        if budget[0] <= 0:
            break
    bye = bye_candidates[0]
    rest = [p for p in players if p != bye]
    return [*_pair_nearest(rest, met), *([(bye, None)] if bye is not None else [])]


def _pair_without_repeats(
    players: list[str], met: Collection[frozenset[str]], budget: list[int]
) -> list[Pairing] | None:
    if not players:
        return []
    first, rest = players[0], players[1:]
    for index, other in enumerate(rest):
        budget[0] -= 1
        if budget[0] <= 0:
            return None
        if frozenset((first, other)) in met:
            continue
        found = _pair_without_repeats(rest[:index] + rest[index + 1 :], met, budget)
        if found is not None:
            return [(first, other), *found]
    return None


def _pair_nearest(players: list[str], met: Collection[frozenset[str]]) -> list[Pairing]:
    """Greedy top-down pairing that prefers opponents not met yet."""
    left = list(players)
    pairings: list[Pairing] = []
    while left:
        first = left.pop(0)
        fresh = [p for p in left if frozenset((first, p)) not in met]
        other = (fresh or left)[0]
        left.remove(other)
        pairings.append((first, other))
    return pairings


def bracket_size(entrants: int) -> int:
    """The smallest power of two that holds every entrant."""
    return 1 << max(1, math.ceil(math.log2(entrants)))


def elimination_rounds(entrants: int) -> int:
    return bracket_size(entrants).bit_length() - 1


def seed_positions(size: int) -> list[int]:
    """Seed numbers (1-based) in bracket order, so that seeds 1 and 2 can meet only in the
    final: 1 v 8, 4 v 5, 2 v 7, 3 v 6 for eight."""
    order = [1]
    while len(order) < size:
        span = 2 * len(order) + 1
        order = [seed for top in order for seed in (top, span - top)]
    return order


def first_elimination_round(entrants: Sequence[str]) -> list[Pairing]:
    """The opening round of a bracket: the top seeds get the byes that fill it."""
    size = bracket_size(len(entrants))
    slots: list[str | None] = [
        entrants[seed - 1] if seed <= len(entrants) else None for seed in seed_positions(size)
    ]
    pairings: list[Pairing] = []
    for one, two in zip(slots[::2], slots[1::2], strict=True):
        assert one is not None  # the better seed of each slot pair always exists
        pairings.append((one, two))
    return pairings


def next_elimination_round(winners: Sequence[str]) -> list[Pairing]:
    """Winners of neighbouring pairings meet, in bracket order."""
    return [(one, two) for one, two in zip(winners[::2], winners[1::2], strict=True)]


def free_for_all_tables(ranking: Sequence[str], size: int) -> list[list[str]]:
    """One free-for-all round: ``ranking`` (seed order, or the standings, best first) cut
    into as few tables of at most ``size`` as will hold everyone, their sizes differing by
    one at most, neighbours in the ranking at the same table. Two or more entrants never
    leave anyone alone at a table."""
    if not ranking:
        return []
    count = math.ceil(len(ranking) / size)
    small, extra = divmod(len(ranking), count)
    tables: list[list[str]] = []
    start = 0
    for index in range(count):
        end = start + small + (1 if index < extra else 0)
        tables.append(list(ranking[start:end]))
        start = end
    return tables
