"""Rating charts as SVG geometry: a pure mapping from an agent's points to coordinates and
paths that a template draws. The x axis counts ranked matches (one step per match, whatever
the time between them); the y axis is the score, mu - 3 sigma, with the mu ± sigma band."""

from __future__ import annotations

import itertools
import math
from collections.abc import Sequence
from dataclasses import dataclass

WIDTH = 640
HEIGHT = 260
LEFT, RIGHT, TOP, BOTTOM = 52, 16, 14, 36
MAX_POINTS = 300  # more than this and the line is thinned (the table keeps every match)
X_TICKS = 6
Y_TICKS = 5


@dataclass(frozen=True)
class Sample:
    """One match's rating after it: the score line and the band around mu."""

    number: int  # the match's place in the agent's history, from 1
    score: float
    mu: float
    sigma: float
    version: int


@dataclass(frozen=True)
class Tick:
    at: float  # the coordinate along its axis
    label: str


@dataclass(frozen=True)
class Chart:
    """What the template draws; every coordinate is inside ``width`` by ``height``."""

    width: int
    height: int
    left: float
    right: float
    top: float
    bottom: float
    line: str  # the score's path ("" without points)
    band: str  # the closed mu ± sigma path ("" without points)
    dots: list[tuple[float, float]]  # drawn when there are too few points for a line
    x_ticks: list[Tick]
    y_ticks: list[Tick]
    versions: list[Tick]  # where a new version played its first match
    shown: int  # points drawn
    total: int  # points given


def thin(samples: Sequence[Sample], limit: int = MAX_POINTS) -> list[Sample]:
    """At most ``limit`` samples, evenly spread, keeping the first, the last and each
    version's first match (so no version change disappears)."""
    if len(samples) <= limit:
        return list(samples)
    keep = {0, len(samples) - 1}
    keep |= {i for i in range(1, len(samples)) if samples[i].version != samples[i - 1].version}
    room = limit - len(keep)
    if room > 0:
        step = (len(samples) - 1) / room
        keep |= {round(k * step) for k in range(room)}
    return [samples[i] for i in sorted(keep)]


def nice_ticks(low: float, high: float, count: int = Y_TICKS) -> list[float]:
    """Round values covering ``low``..``high`` at a step of 1, 2 or 5 times a power of ten."""
    if high <= low:
        high = low + 1
    raw = (high - low) / max(count - 1, 1)
    power = 10 ** math.floor(math.log10(raw))
    step = next(m * power for m in (1, 2, 5, 10) if m * power >= raw)
    first = math.floor(low / step)
    last = max(math.ceil(high / step), first + 1)
    return [round(k * step, 10) for k in range(first, last + 1)]


def rating_chart(samples: Sequence[Sample]) -> Chart:
    """The chart of ``samples`` (oldest first)."""
    points = thin(samples)
    left, right, top, bottom = LEFT, WIDTH - RIGHT, TOP, HEIGHT - BOTTOM
    if not points:
        return Chart(WIDTH, HEIGHT, left, right, top, bottom, "", "", [], [], [], [], 0, 0)
    lows = [min(p.score, p.mu - p.sigma) for p in points]
    highs = [max(p.score, p.mu + p.sigma) for p in points]
    values = nice_ticks(min(lows), max(highs))
    y_low, y_high = values[0], values[-1]
    first, last = points[0].number, points[-1].number
    span = max(last - first, 1)

    def x(number: int) -> float:
        if last == first:
            return round((left + right) / 2, 2)
        return round(left + (number - first) / span * (right - left), 2)

    def y(value: float) -> float:
        return round(bottom - (value - y_low) / (y_high - y_low) * (bottom - top), 2)

    line = "M" + " L".join(f"{x(p.number)},{y(p.score)}" for p in points)
    upper = [f"{x(p.number)},{y(p.mu + p.sigma)}" for p in points]
    lower = [f"{x(p.number)},{y(p.mu - p.sigma)}" for p in reversed(points)]
    band = "M" + " L".join(upper + lower) + " Z"
    dots = [(x(p.number), y(p.score)) for p in points] if len(points) < 3 else []
    numbers = sorted({round(first + k * span / (X_TICKS - 1)) for k in range(X_TICKS)})
    x_ticks = [Tick(x(n), str(n)) for n in numbers if first <= n <= last]
    y_ticks = [Tick(y(v), f"{v:g}") for v in values]
    versions = [
        Tick(x(b.number), f"v{b.version}")
        for a, b in itertools.pairwise(points)
        if b.version != a.version
    ]
    return Chart(
        WIDTH,
        HEIGHT,
        left,
        right,
        top,
        bottom,
        line,
        band,
        dots,
        x_ticks,
        y_ticks,
        versions,
        len(points),
        len(samples),
    )
