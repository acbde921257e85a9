"""A single-elimination bracket laid out for drawing: pure functions from its rounds to boxes
and the lines between them, in the SVG's own units; the template only draws what this says.

Rounds are columns, left to right. Each pairing is a box of two lines, its two entrants (or a
bye, or "to be decided" while an earlier pairing is undecided), the winner's line emphasised.
The box of pairing ``i`` of a round sits midway between pairings ``2i`` and ``2i + 1`` of the
round before, whose winners it pairs (top from the even one, bottom from the odd one), so the
line from each box runs to the line of the box its winner goes to.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Literal

from botarena.tournaments.rounds import Slot

BOX_WIDTH = 200
LINE_HEIGHT = 26
BOX_HEIGHT = 2 * LINE_HEIGHT
GAP_BELOW = 20  # between two boxes of the first round
COLUMN_GAP = 48
HEADER = 30  # the round names above the columns
MARGIN = 4
MAX_NAME = 24  # characters drawn; the list beside the drawing has every name whole
UNDECIDED = "to be decided"
BYE = "bye"

Kind = Literal["entrant", "bye", "undecided"]


@dataclass(frozen=True)
class Line:
    """One line of a box: an entrant, a bye, or an entrant not known yet."""

    kind: Kind
    entrant: str | None  # the submission id
    name: str  # in full
    won: bool

    @property
    def label(self) -> str:
        """The name as drawn: cut to fit the box."""
        if len(self.name) <= MAX_NAME:
            return self.name
        return self.name[: MAX_NAME - 1] + "…"


@dataclass(frozen=True)
class Box:
    round: int  # from 1
    index: int  # from 0, top to bottom
    x: float
    y: float  # the top edge
    top: Line
    bottom: Line
    bye: bool

    width = BOX_WIDTH
    height = BOX_HEIGHT

    @property
    def lines(self) -> tuple[Line, Line]:
        return (self.top, self.bottom)

    @property
    def middle(self) -> float:
        """Where the line between the box's two lines is drawn."""
        return self.y + LINE_HEIGHT

    def baseline(self, line: int) -> float:
        """Where the text of line ``line`` (0 top, 1 bottom) sits."""
        return round(self.y + LINE_HEIGHT * (line + 0.68), 2)

    @property
    def text_x(self) -> float:
        return self.x + 8

    @property
    def decided(self) -> bool:
        return self.top.won or self.bottom.won

    @property
    def winner(self) -> Line | None:
        return next((line for line in self.lines if line.won), None)


@dataclass(frozen=True)
class Connector:
    """The line from a box to the line of the next round's box its winner takes."""

    points: tuple[tuple[float, float], ...]
    decided: bool  # the winner is known: drawn emphasised

    @property
    def path(self) -> str:
        """The SVG path data."""
        first, *rest = self.points
        return f"M {first[0]:g} {first[1]:g}" + "".join(f" L {x:g} {y:g}" for x, y in rest)


@dataclass(frozen=True)
class Column:
    round: int
    name: str
    x: float  # the centre of the column, for its heading


@dataclass(frozen=True)
class Layout:
    width: float
    height: float
    columns: list[Column]
    rounds: list[list[Box]]
    connectors: list[Connector]

    @property
    def boxes(self) -> list[Box]:
        return [box for column in self.rounds for box in column]

    @property
    def champion(self) -> Line | None:
        """The winner of the final, once there is one."""
        return self.rounds[-1][0].winner if self.rounds and self.rounds[-1] else None


def round_name(number: int, total: int) -> str:
    """ "Final", "Semi-finals", "Quarter-finals", else "Round N"."""
    names = {0: "Final", 1: "Semi-finals", 2: "Quarter-finals"}
    return names.get(total - number, f"Round {number}")


def layout(rounds: Sequence[Sequence[Slot]], names: Mapping[str, str]) -> Layout:
    """Where every pairing of ``rounds`` (the tournament's bracket, first round first) goes;
    ``names`` gives the name to show for each entrant (its submission id)."""
    total = len(rounds)
    first = len(rounds[0]) if rounds else 0
    unit = BOX_HEIGHT + GAP_BELOW
    columns: list[Column] = []
    placed: list[list[Box]] = []
    for number, slots in enumerate(rounds, start=1):
        x = MARGIN + (number - 1) * (BOX_WIDTH + COLUMN_GAP)
        span = unit * 2 ** (number - 1)
        columns.append(Column(number, round_name(number, total), x + BOX_WIDTH / 2))
        placed.append(
            [
                Box(
                    number,
                    index,
                    x,
                    HEADER + span * index + (span - BOX_HEIGHT) / 2,
                    _line(slot.a, slot.winner, names),
                    _bye() if slot.bye else _line(slot.b, slot.winner, names),
                    slot.bye,
                )
                for index, slot in enumerate(slots)
            ]
        )
    connectors = [
        _connector(box, placed[number][box.index // 2], box.index % 2)
        for number, column in enumerate(placed[:-1], start=1)
        for box in column
        if box.index // 2 < len(placed[number])
    ]
    width = 2 * MARGIN + total * BOX_WIDTH + max(0, total - 1) * COLUMN_GAP
    height = HEADER + first * unit - GAP_BELOW / 2 + MARGIN  # half a gap above each box
    return Layout(width, height, columns, placed, connectors)


def _line(entrant: str | None, winner: str | None, names: Mapping[str, str]) -> Line:
    if entrant is None:
        return Line("undecided", None, UNDECIDED, False)
    return Line("entrant", entrant, names.get(entrant, entrant), entrant == winner)


def _bye() -> Line:
    return Line("bye", None, BYE, False)


def _connector(box: Box, after: Box, line: int) -> Connector:
    """From the middle of ``box``'s right edge to line ``line`` (0 top, 1 bottom) of
    ``after``, turning halfway across the gap."""
    start = (box.x + BOX_WIDTH, box.y + BOX_HEIGHT / 2)
    end_y = after.y + LINE_HEIGHT * (line + 0.5)
    turn = box.x + BOX_WIDTH + COLUMN_GAP / 2
    points = (start, (turn, start[1]), (turn, end_y), (after.x, end_y))
    return Connector(points, box.decided)
