"""The rating chart's geometry: no points, one point, many, and a history too long to draw
point by point; every coordinate inside the drawing, the line following the scores."""

from __future__ import annotations

import re

from botarena.web.charts import MAX_POINTS, Sample, nice_ticks, rating_chart, thin


def _samples(count: int, versions: tuple[int, ...] = ()) -> list[Sample]:
    samples = []
    version = 1
    for number in range(1, count + 1):
        if number in versions:
            version += 1
        mu = 25 + number * 0.01
        sigma = max(8.33 - number * 0.05, 1.0)
        samples.append(Sample(number, mu - 3 * sigma, mu, sigma, version))
    return samples


def _coordinates(path: str) -> list[tuple[float, float]]:
    return [(float(x), float(y)) for x, y in re.findall(r"(-?[\d.]+),(-?[\d.]+)", path)]


def test_no_points_draw_nothing() -> None:
    chart = rating_chart([])
    assert (chart.line, chart.band, chart.dots, chart.shown, chart.total) == ("", "", [], 0, 0)
    assert chart.x_ticks == chart.y_ticks == chart.versions == []


def test_one_point_is_a_dot_in_the_middle() -> None:
    chart = rating_chart(_samples(1))
    assert chart.shown == 1 and len(chart.dots) == 1
    x, y = chart.dots[0]
    assert x == (chart.left + chart.right) / 2
    assert chart.top <= y <= chart.bottom
    assert [t.label for t in chart.x_ticks] == ["1"]
    assert len(chart.y_ticks) >= 2


def test_many_points_fill_the_width_and_rise_upwards() -> None:
    samples = _samples(40, versions=(21,))
    chart = rating_chart(samples)
    points = _coordinates(chart.line)
    assert len(points) == 40 and chart.dots == []
    assert points[0][0] == chart.left and points[-1][0] == chart.right
    assert all(chart.top <= y <= chart.bottom for _x, y in _coordinates(chart.band))
    # A higher score is drawn higher (a smaller y).
    assert points[-1][1] < points[0][1]
    assert [v.label for v in chart.versions] == ["v2"]
    assert chart.versions[0].at == points[20][0]
    assert chart.x_ticks[0].label == "1" and chart.x_ticks[-1].label == "40"
    labels = [float(t.label) for t in chart.y_ticks]
    assert labels == sorted(labels)
    lowest = min(min(s.score, s.mu - s.sigma) for s in samples)
    highest = max(s.mu + s.sigma for s in samples)
    assert labels[0] <= lowest and labels[-1] >= highest


def test_a_huge_history_is_thinned_keeping_ends_and_version_changes() -> None:
    samples = _samples(20_000, versions=(7_777,))
    kept = thin(samples)
    assert len(kept) <= MAX_POINTS
    assert kept[0] == samples[0] and kept[-1] == samples[-1]
    assert samples[7_776] in kept  # the new version's first match
    chart = rating_chart(samples)
    assert chart.shown == len(kept) and chart.total == 20_000
    assert len(_coordinates(chart.line)) == len(kept)
    assert [v.label for v in chart.versions] == ["v2"]


def test_nice_ticks_are_round_and_cover_the_range() -> None:
    assert nice_ticks(-3.2, 17.9) == [-10, 0, 10, 20]
    assert nice_ticks(0.12, 0.5) == [0.1, 0.2, 0.3, 0.4, 0.5]
    assert nice_ticks(4.0, 4.0)[0] <= 4.0 <= nice_ticks(4.0, 4.0)[-1]
