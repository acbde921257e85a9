"""The bracket's layout: rounds as columns, each box midway between the two it follows, lines
from each box to the line its winner takes, byes and unknown entrants, names cut to fit."""

from __future__ import annotations

from botarena.tournaments.rounds import Slot
from botarena.web.tournaments.bracket import (
    BOX_HEIGHT,
    BOX_WIDTH,
    COLUMN_GAP,
    LINE_HEIGHT,
    MAX_NAME,
    Layout,
    layout,
    round_name,
)

NAMES = {"s1": "ada", "s2": "bob", "s3": "cy", "s4": "dee", "s5": "eve"}


def _four_after_semis() -> Layout:
    return layout(
        [
            [Slot("s1", "s4", False, "s1"), Slot("s2", "s3", False, "s3")],
            [Slot("s1", "s3", False, None)],
        ],
        NAMES,
    )


def test_rounds_are_columns_and_a_box_sits_midway_between_the_two_it_follows() -> None:
    drawn = _four_after_semis()
    assert [c.name for c in drawn.columns] == ["Semi-finals", "Final"]
    semi_one, semi_two = drawn.rounds[0]
    (final,) = drawn.rounds[1]
    assert semi_one.x == semi_two.x < final.x == semi_one.x + BOX_WIDTH + COLUMN_GAP
    assert semi_one.y + BOX_HEIGHT <= semi_two.y  # no overlap
    middle = (semi_one.y + semi_two.y) / 2
    assert final.y == middle
    assert drawn.width == final.x + BOX_WIDTH + semi_one.x  # the same margin both sides
    assert drawn.height == semi_two.y + BOX_HEIGHT + semi_one.x  # the margin below too
    assert [c.x for c in drawn.columns] == [semi_one.x + BOX_WIDTH / 2, final.x + BOX_WIDTH / 2]


def test_the_winner_is_marked_and_joined_to_the_line_it_takes_next() -> None:
    drawn = _four_after_semis()
    semi_one, semi_two = drawn.rounds[0]
    (final,) = drawn.rounds[1]
    assert (semi_one.top.name, semi_one.top.won, semi_one.bottom.won) == ("ada", True, False)
    assert (semi_two.top.won, semi_two.bottom.name, semi_two.bottom.won) == (False, "cy", True)
    assert not final.decided and final.winner is None and drawn.champion is None
    top_link, bottom_link = drawn.connectors
    assert top_link.decided and bottom_link.decided
    # From the middle of each semi-final's right edge to its winner's line in the final.
    assert top_link.points[0] == (semi_one.x + BOX_WIDTH, semi_one.y + BOX_HEIGHT / 2)
    assert top_link.points[-1] == (final.x, final.y + LINE_HEIGHT / 2)
    assert bottom_link.points[-1] == (final.x, final.y + LINE_HEIGHT * 1.5)
    # Two right angles halfway across the gap.
    turn = semi_one.x + BOX_WIDTH + COLUMN_GAP / 2
    assert [x for x, _ in bottom_link.points[1:3]] == [turn, turn]
    assert (
        top_link.path.startswith(f"M {semi_one.x + BOX_WIDTH:g} ") and top_link.path.count("L") == 3
    )


def test_a_bye_is_drawn_as_such_and_its_entrant_goes_through() -> None:
    # Three entrants: seed 1 has the bye, 2 and 3 play.
    drawn = layout(
        [
            [Slot("s1", None, True, "s1"), Slot("s2", "s3", False, None)],
            [Slot("s1", None, False, None)],
        ],
        NAMES,
    )
    bye, played = drawn.rounds[0]
    assert bye.bye and bye.bottom.kind == "bye" and bye.bottom.name == "bye"
    assert bye.top.won and bye.decided
    assert not played.decided
    (final,) = drawn.rounds[1]
    assert (final.top.name, final.top.kind) == ("ada", "entrant")
    assert (final.bottom.name, final.bottom.kind) == ("to be decided", "undecided")
    assert [c.decided for c in drawn.connectors] == [True, False]


def test_the_champion_and_a_bracket_of_one_round() -> None:
    drawn = layout([[Slot("s1", "s2", False, "s2")]], NAMES)
    assert [c.name for c in drawn.columns] == ["Final"]
    assert drawn.connectors == []
    assert drawn.champion is not None and drawn.champion.name == "bob"


def test_long_names_are_cut_to_fit_and_kept_whole_for_the_list() -> None:
    long = "a-very-long-agent-name-that-goes-on-and-on"
    drawn = layout([[Slot("s1", "s2", False, None)]], {"s1": long})
    top = drawn.rounds[0][0].top
    assert top.name == long
    assert len(top.label) == MAX_NAME and top.label.endswith("…")
    assert drawn.rounds[0][0].bottom.label == "s2"  # an entrant without a name shows its id


def test_round_names_count_back_from_the_final() -> None:
    assert [round_name(n, 5) for n in range(1, 6)] == [
        "Round 1",
        "Round 2",
        "Quarter-finals",
        "Semi-finals",
        "Final",
    ]


def test_eight_entrants_lay_out_three_columns_each_half_the_one_before() -> None:
    first = [Slot(f"a{i}", f"b{i}", False, None) for i in range(4)]
    drawn = layout(
        [first, [Slot(None, None, False, None)] * 2, [Slot(None, None, False, None)]], {}
    )
    assert [len(column) for column in drawn.rounds] == [4, 2, 1]
    assert len(drawn.connectors) == 6
    for number in (1, 2):
        for box in drawn.rounds[number]:
            before = drawn.rounds[number - 1][2 * box.index : 2 * box.index + 2]
            assert box.y == (before[0].y + before[1].y) / 2
    assert not any(c.decided for c in drawn.connectors)
