"""Standings and their tie-breaks: head-to-head and Sonneborn-Berger in round robins,
Buchholz in swiss, the round reached in elimination, and the seed last."""

from __future__ import annotations

from botarena.tournaments.standings import (
    ROUND_ROBIN,
    SINGLE_ELIMINATION,
    SWISS,
    Game,
    standings,
)

WIN, DRAW, LOSS = 1.0, 0.5, 0.0


def test_head_to_head_separates_a_round_robin_tie() -> None:
    # a and b both end on 2 points; b beat a, so b is above despite the worse seed.
    games = [
        Game(1, "a", "b", LOSS),
        Game(1, "c", "d", WIN),
        Game(2, "a", "c", WIN),
        Game(2, "b", "d", LOSS),
        Game(3, "a", "d", WIN),
        Game(3, "b", "c", WIN),
    ]
    lines = standings(ROUND_ROBIN, ["a", "b", "c", "d"], games)
    assert [(x.entrant, x.points) for x in lines] == [("b", 2), ("a", 2), ("c", 1), ("d", 1)]
    assert [x.rank for x in lines] == [1, 2, 3, 4]
    assert lines[0].head_to_head == 1.0 and lines[1].head_to_head == 0.0


def test_sonneborn_berger_when_head_to_head_is_level() -> None:
    # a and b drew each other and end level; a's win was over the stronger c.
    games = [
        Game(1, "a", "b", DRAW),
        Game(1, "c", "d", WIN),
        Game(2, "a", "c", WIN),
        Game(2, "b", "d", WIN),
    ]
    lines = standings(ROUND_ROBIN, ["b", "a", "c", "d"], games)
    assert [(x.entrant, x.points, x.head_to_head) for x in lines[:2]] == [
        ("a", 1.5, 0.5),
        ("b", 1.5, 0.5),
    ]
    assert (lines[0].sonneborn_berger, lines[1].sonneborn_berger) == (1.75, 0.75)


def test_buchholz_orders_level_swiss_scores() -> None:
    # x and y both win once; x's win was over the stronger opponent.
    games = [
        Game(1, "x", "p", WIN),
        Game(1, "y", "q", WIN),
        Game(2, "p", "q", WIN),
        Game(2, "x", "y", DRAW),
    ]
    lines = standings(SWISS, ["y", "x", "p", "q"], games)
    assert [x.entrant for x in lines[:2]] == ["x", "y"]
    assert lines[0].points == lines[1].points and lines[0].buchholz > lines[1].buchholz


def test_a_swiss_bye_is_a_point_and_the_seed_breaks_a_full_tie() -> None:
    lines = standings(SWISS, ["s1", "s2", "s3"], [Game(1, "s3", None, 1.0)])
    assert [(x.entrant, x.points, x.byes) for x in lines] == [
        ("s3", 1.0, 1),
        ("s1", 0.0, 0),
        ("s2", 0.0, 0),
    ]
    # A round robin sit-out is worth nothing: everyone sits out once.
    assert standings(ROUND_ROBIN, ["s1", "s2"], [Game(1, "s2", None, 1.0)])[1].points == 0.0


def test_elimination_ranks_by_the_round_reached() -> None:
    games = [
        Game(1, "a", "d", WIN),
        Game(1, "b", "c", LOSS),
        Game(2, "a", "c", WIN),
    ]
    out = {"d": 1, "b": 1, "c": 2}
    lines = standings(SINGLE_ELIMINATION, ["a", "b", "c", "d"], games, out, alive_round=3)
    # b and d both went out in round 1: the seed decides between them.
    assert [(x.entrant, x.round_reached) for x in lines] == [("a", 3), ("c", 2), ("b", 1), ("d", 1)]
