"""Pairing in each format, as pure functions: round robins meet everyone once, swiss never
repeats a pairing that could be avoided, brackets seed and fill with byes."""

from __future__ import annotations

import itertools
import random
from collections import Counter
from collections.abc import Iterator

import pytest

from botarena.tournaments.pairing import (
    Pairing,
    bracket_size,
    elimination_rounds,
    first_elimination_round,
    next_elimination_round,
    round_robin_rounds,
    seed_positions,
    swiss_pairings,
)
from botarena.tournaments.standings import SWISS, Game, standings


def _names(count: int) -> list[str]:
    return [f"e{index}" for index in range(count)]


@pytest.mark.parametrize("count", range(2, 10))
def test_a_round_robin_meets_everyone_once(count: int) -> None:
    entrants = _names(count)
    schedule = round_robin_rounds(entrants)
    assert len(schedule) == (count if count % 2 else count - 1)
    met: Counter[frozenset[str]] = Counter()
    sat_out: Counter[str] = Counter()
    for pairings in schedule:
        seen = [p for pairing in pairings for p in pairing if p is not None]
        assert sorted(seen) == sorted(entrants)  # each entrant once per round
        for one, two in pairings:
            if two is None:
                sat_out[one] += 1
            else:
                met[frozenset((one, two))] += 1
    assert set(met) == {frozenset(pair) for pair in itertools.combinations(entrants, 2)}
    assert set(met.values()) == {1}
    assert sat_out == (Counter(entrants) if count % 2 else Counter())


def _matchings(players: list[str]) -> Iterator[list[tuple[str, str]]]:
    """Every way to pair ``players`` (an even number of them)."""
    if not players:
        yield []
        return
    first = players[0]
    for index in range(1, len(players)):
        rest = players[1:index] + players[index + 1 :]
        for found in _matchings(rest):
            yield [(first, players[index]), *found]


def _repeat_free_exists(players: list[str], met: set[frozenset[str]], fresh: list[str]) -> bool:
    """Brute force: is there a round without a repeat, the bye going to someone without one?"""
    byes: list[str | None] = [None]
    if len(players) % 2:
        byes = list(fresh or players)
    for bye in byes:
        rest = [p for p in players if p != bye]
        for pairing in _matchings(rest):
            if all(frozenset(pair) not in met for pair in pairing):
                return True
    return False


@pytest.mark.parametrize("count", range(3, 11))
def test_swiss_never_repeats_a_pairing_while_it_can_be_avoided(count: int) -> None:
    repeats_seen = 0
    for trial in range(6):
        chance = random.Random(count * 100 + trial)
        entrants = _names(count)
        games: list[Game] = []
        met: set[frozenset[str]] = set()
        byes: Counter[str] = Counter()
        for number in range(1, count + 2):  # past the point where repeats are forced
            ranking = [line.entrant for line in standings(SWISS, entrants, games)]
            pairings = swiss_pairings(ranking, met, set(byes))
            _check_round(pairings, entrants)
            real = [frozenset((a, b)) for a, b in pairings if b is not None]
            fresh = [p for p in entrants if p not in byes]
            if any(pair in met for pair in real):
                repeats_seen += 1
                assert not _repeat_free_exists(entrants, met, fresh), (number, pairings, met)
            for one, two in pairings:
                if two is None:
                    assert one in fresh or not fresh  # a second bye only once all had one
                    byes[one] += 1
                    games.append(Game(number, one, None, 1.0))
                else:
                    games.append(Game(number, one, two, chance.choice([0.0, 0.5, 1.0])))
            met.update(real)
    assert repeats_seen > 0  # the trials did reach rounds where a repeat was forced


def _check_round(pairings: list[Pairing], entrants: list[str]) -> None:
    seen = [p for pairing in pairings for p in pairing if p is not None]
    assert sorted(seen) == sorted(entrants)
    assert sum(1 for _, two in pairings if two is None) == len(entrants) % 2


def test_the_swiss_bye_goes_to_the_lowest_ranked_without_one() -> None:
    ranking = _names(5)
    assert ("e4", None) in swiss_pairings(ranking, set(), set())
    assert ("e3", None) in swiss_pairings(ranking, set(), {"e4"})
    # Top-down: the leader meets the next one it has not met.
    assert swiss_pairings(_names(4), {frozenset(("e0", "e1"))}, set())[0] == ("e0", "e2")


def test_seed_positions_keep_the_best_two_apart_until_the_final() -> None:
    assert seed_positions(2) == [1, 2]
    assert seed_positions(8) == [1, 8, 4, 5, 2, 7, 3, 6]
    for size in (4, 8, 16, 32):
        order = seed_positions(size)
        assert sorted(order) == list(range(1, size + 1))
        half = size // 2
        assert (1 in order[:half]) != (2 in order[:half])


@pytest.mark.parametrize(
    ("count", "byes"), [(2, 0), (3, 1), (5, 3), (6, 2), (7, 1), (8, 0), (9, 7), (13, 3)]
)
def test_a_bracket_gives_its_byes_to_the_top_seeds(count: int, byes: int) -> None:
    entrants = _names(count)  # in seed order
    first = first_elimination_round(entrants)
    assert len(first) == bracket_size(count) // 2
    bye_takers = [one for one, two in first if two is None]
    assert sorted(bye_takers) == sorted(entrants[:byes])
    assert sorted(p for pair in first for p in pair if p is not None) == sorted(entrants)
    # The better seed always wins: the last two standing are seeds 1 and 2.
    rank = {name: index for index, name in enumerate(entrants)}
    alive = [min(pair, key=lambda p: rank[p] if p is not None else count) for pair in first]
    for _ in range(elimination_rounds(count) - 1):
        pairings = next_elimination_round([p for p in alive if p is not None])
        if len(pairings) == 1:
            assert set(pairings[0]) == {"e0", "e1"}
        alive = [min(pair, key=lambda p: rank[p] if p is not None else count) for pair in pairings]
    assert alive == ["e0"]
